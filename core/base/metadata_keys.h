/// Keys of the package metadata (Metadata.userDefined) that ts2coreml writes and reads back.
#ifndef TS2COREML_CORE_BASE_METADATA_KEYS_H_
#define TS2COREML_CORE_BASE_METADATA_KEYS_H_

namespace ts2coreml::core {

/// "fp16" or "fp32": the --precision of the conversion.
inline constexpr char kPrecisionKey[] = "com.github.ts2coreml.precision";
/// "ios15" / "ios16" / "ios17".
inline constexpr char kTargetKey[] = "com.github.ts2coreml.target";
/// {"<mil var>": {"value": TorchScript value, "op": kind, "source": location}}.
inline constexpr char kSourceMapKey[] = "com.github.ts2coreml.source_map";
/// {"<mil var>": {"op", "mil_op", "reason", "source"}} for every MIL op computing in FP32 under
/// --precision fp16 (casts excluded).
inline constexpr char kFp32OpsKey[] = "com.github.ts2coreml.fp32_ops";
/// {"<cast output var>": "reason"} for every cast the core inserted.
inline constexpr char kCastsKey[] = "com.github.ts2coreml.casts";

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_METADATA_KEYS_H_
