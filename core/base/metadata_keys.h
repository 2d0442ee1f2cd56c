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
/// {"<model input>": {"dtype": "fp32|fp16|int32|int64|bool", "high": N}}: the dtype of each
/// forward() argument (int64 and bool inputs are int32 features), and, for ids an embedding
/// reads, its num_embeddings (verify draws random ids in [0, high)).
inline constexpr char kInputsKey[] = "com.github.ts2coreml.inputs";

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_METADATA_KEYS_H_
