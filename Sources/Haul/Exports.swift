@_exported public import HaulCore
