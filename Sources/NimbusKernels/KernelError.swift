/// Errors of the kernel module.
public enum KernelError: Error, Equatable, Sendable {
    /// The type has no kernel for the requested operation.
    case unsupportedType(QuantType, operation: String)
    /// Shapes, strides or buffer sizes do not fit together.
    case badShape(String)
    /// The requested dispatch path is not available on this CPU.
    case pathUnavailable(KernelPath)
}
