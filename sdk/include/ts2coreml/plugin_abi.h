/// ts2coreml plugin ABI: the C contract between the converter core and lowering plugins.
///
/// A plugin is a shared library that exports two symbols:
///   - `ts2coreml_plugin_header`, a constant `t2c_plugin_header` of integers only (magic, ABI
///     version, the struct sizes the plugin was built with). The registry reads it from the ELF
///     file, before the library is loaded, and refuses a plugin whose ABI version or sizes it
///     cannot use without running any of the plugin's code (not even its static constructors);
///   - `ts2coreml_plugin_entry`, a function that returns a pointer to a constant
///     `t2c_plugin_info`, called only once the header is accepted. Its `abi_version` and
///     `struct_size` must agree with the header.
/// A library without the header (built against an SDK that predates it) is still accepted: it is
/// loaded and its entry's `abi_version` and `struct_size` are checked as the header's would be.
/// Plugins must not register anything from static initializers.
///
/// Growth: `abi_version` changes only on incompatible changes. Fields and host functions are only
/// ever appended, and appended fields are detected by `struct_size`: a reader copies
/// min(struct_size, the size it knows) bytes and zeroes the rest, so an older plugin keeps working
/// with a newer core and a newer plugin's extra fields are ignored by an older core. The minimum
/// sizes below are the first published layout and never change. Enum values a reader does not
/// know (role, policy, infer rule, value kind) are refused, not guessed.
/// Nothing throws across this boundary: callbacks return a `t2c_status` and report failures
/// through `t2c_host_api::fail`.
///
/// Plugin authors normally use the header-only C++ layer in `ts2coreml/sdk.h` instead of this
/// header; its TS2COREML_PLUGIN macro defines both symbols.
#ifndef TS2COREML_PLUGIN_ABI_H_
#define TS2COREML_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The ABI version this header describes. Bumped only on incompatible changes: appended fields and
/// host functions keep it and are detected by `struct_size`.
#define T2C_ABI_VERSION 1u

/// The name of the entry function a plugin library exports.
#define T2C_ENTRY_SYMBOL "ts2coreml_plugin_entry"

/// The name of the constant `t2c_plugin_header` a plugin library exports.
#define T2C_HEADER_SYMBOL "ts2coreml_plugin_header"

/// `t2c_plugin_header::magic`: the bytes "T2CH" read as a little-endian uint32.
#define T2C_HEADER_MAGIC 0x48433254u

/// The largest tensor rank a type can carry across the ABI (Core ML's own limit is 5).
#define T2C_MAX_RANK 8

/// Result of every callback and host function.
typedef int32_t t2c_status;
#define T2C_OK 0
#define T2C_ERROR 1
/// Returned by `infer` when the node's inputs do not fit the op: shapes or types PyTorch itself
/// would reject (channels that differ from the weight's, shapes that do not broadcast). The core
/// then blames the model's input shapes (exit code 5, naming the --input given) rather than the
/// plugin. Appended value: a core that predates it treats it as T2C_ERROR.
#define T2C_ERROR_INVALID_INPUTS 2

/// Data types. The values equal Core ML's MILSpec.DataType so no table is needed to translate them.
typedef enum t2c_dtype {
  T2C_DTYPE_INVALID = 0,
  T2C_DTYPE_BOOL = 1,
  T2C_DTYPE_STRING = 2,
  T2C_DTYPE_FP16 = 10,
  T2C_DTYPE_FP32 = 11,
  T2C_DTYPE_INT32 = 23,
} t2c_dtype;

/// A set of dtypes, as a bit mask of `1u << dtype`.
typedef uint32_t t2c_dtype_mask;
#define T2C_DTYPE_BIT(dtype) (1u << (uint32_t)(dtype))
#define T2C_MASK_FLOAT (T2C_DTYPE_BIT(T2C_DTYPE_FP16) | T2C_DTYPE_BIT(T2C_DTYPE_FP32))
#define T2C_MASK_FLOAT_INT (T2C_MASK_FLOAT | T2C_DTYPE_BIT(T2C_DTYPE_INT32))
#define T2C_MASK_ANY (T2C_MASK_FLOAT_INT | T2C_DTYPE_BIT(T2C_DTYPE_BOOL))

/// How a lowering runs when the user asks for FP16.
typedef enum t2c_fp16_policy {
  /// Computes in FP16 like any other op.
  T2C_FP16_NATIVE = 0,
  /// Loses accuracy or overflows in FP16 (softmax, exp, norms): the core runs it in FP32 between
  /// casts.
  T2C_FP16_NEEDS_FP32_COMPUTE = 1,
  /// Computes in FP16, but its T2C_ROLE_PARAM inputs (batch_norm statistics and epsilon, ...) are
  /// kept
  /// FP32 where the deployment target allows parameters of another dtype than the input (iOS17+).
  T2C_FP16_FP32_PARAMS = 2,
} t2c_fp16_policy;

/// A quantity an FP16 limit is about, measured on one tensor input by calibration
/// (`ts2coreml convert --calibrate`, docs/precision.md). Each is the largest over the calibration
/// runs and, for the reduced ones, over every group of elements reduced together.
typedef enum t2c_fp16_statistic {
  /// The largest |x| of the input.
  T2C_FP16_STAT_MAGNITUDE = 1,
  /// The sum over the reduced axes of (x - mean)^2: a normalization's variance before its
  /// division by the count (layer_norm's mean of squares).
  T2C_FP16_STAT_CENTERED_SQUARES = 2,
  /// max - min over the reduced axes: the range of exp(x - max) a softmax computes after its max
  /// subtraction (beyond 24 ln 2 = 16.6, FP16 flushes the smallest terms to zero).
  T2C_FP16_STAT_EXP_RANGE = 3,
  /// The sum over the reduced axes of |x|: the magnitude a sum accumulates.
  T2C_FP16_STAT_SUM_ABS = 4,
  /// The sum over the reduced axes of x^2: what a 2-norm accumulates before its square root.
  T2C_FP16_STAT_SUM_SQUARES = 5,
  /* --- appended ------------------------------------------------------------------------------ */
  /// max - min of the running sums along the one reduced axis, the empty sum 0 included: the
  /// largest |sum of a contiguous run| of x, which every scan (sequential or parallel) of a
  /// cumsum accumulates.
  T2C_FP16_STAT_PREFIX_SUM_RANGE = 6,
  /// The product over the reduced axes of max(1, |x|): the largest magnitude a partial product
  /// of a product reduction reaches, in any order of multiplication.
  T2C_FP16_STAT_PROD_GROWTH = 7,
  /// The product over the reduced axes of max(1, 1 / |x|) over the nonzero x: the reciprocal of
  /// the smallest magnitude a nonzero partial product reaches, in any order of multiplication.
  T2C_FP16_STAT_PROD_SHRINK = 8,
  /// The sum over the reduced axes of |x|^p, the order p read from the host input `param_input`
  /// (None: 2): what a p-norm accumulates before its 1/p root. p = 0: the count of nonzero x;
  /// p = +-inf: the largest |x| (the norm reduces by max or min, accumulating nothing).
  T2C_FP16_STAT_POWER_SUM = 9,
  /// The sum over the reduced axes of exp(x - max): what a log-sum-exp accumulates after its max
  /// subtraction (at most the number of elements reduced together).
  T2C_FP16_STAT_EXP_SUM = 10,
} t2c_fp16_statistic;

/// Which axes a statistic reduces over.
typedef enum t2c_fp16_axes {
  /// Every axis of the input.
  T2C_FP16_AXES_ALL = 0,
  /// The dims a host input holds (an int or an int list, negative from the end; None: all).
  T2C_FP16_AXES_DIMS = 1,
  /// As many trailing axes as the int list a host input holds has elements (layer_norm's
  /// normalized_shape).
  T2C_FP16_AXES_TRAILING = 2,
  /// An [N, C, *] input per sample, over each group of C / G channels and every later axis; the
  /// host input holds G (group_norm's num_groups).
  T2C_FP16_AXES_CHANNEL_GROUPS = 3,
  /// An [N, C, *] input per sample and channel, over every later axis (instance_norm); no host
  /// input.
  T2C_FP16_AXES_SPATIAL = 4,
} t2c_fp16_axes;

/// A limit of FP16 a lowering declares as data: FP16 is safe while `statistic` of input `input`
/// stays at or below `bound`. A lowering declaring T2C_FP16_NEEDS_FP32_COMPUTE with limits is
/// kept FP32 under calibration only when a limit is crossed (and always without calibration);
/// a T2C_FP16_NATIVE one is moved to FP32 when calibration shows a limit crossed.
typedef struct t2c_fp16_limit {
  uint32_t struct_size; /* sizeof(t2c_fp16_limit) */
  int32_t statistic;    /* t2c_fp16_statistic */
  uint32_t input;       /* the T2C_ROLE_TENSOR input measured */
  int32_t axes;         /* t2c_fp16_axes */
  uint32_t axes_input;  /* the T2C_ROLE_HOST input naming the axes (not for _ALL, _SPATIAL) */
  double bound;         /* FP16 holds while the statistic stays at or below it */
  const char* what;     /* what the statistic is, for reasons ("the mean of squares") */
  /* --- appended: a statistic's parameter (a limit of the first layout reads 0) -------------- */
  uint32_t param_input; /* the T2C_ROLE_HOST input holding the parameter (POWER_SUM's p) */
} t2c_fp16_limit;

/// The first layout's size of t2c_fp16_limit, frozen.
#define T2C_FP16_LIMIT_MIN_SIZE 40u

/// What a TorchScript input of a node is to a lowering.
typedef enum t2c_input_role {
  /// A tensor (runtime or constant) the lowering reads as a MIL var, in the dtype the core planned
  /// for it. Numbers are accepted too and become rank-0 constants.
  T2C_ROLE_TENSOR = 0,
  /// Like T2C_ROLE_TENSOR, but an op parameter (weights, statistics, epsilon) whose dtype follows
  /// the
  /// lowering's FP16 policy rather than the compute dtype.
  T2C_ROLE_PARAM = 1,
  /// A compile-time value (int, float, bool, list, string, None) the lowering reads on the host.
  /// A runtime value here is refused by the core before the lowering runs.
  T2C_ROLE_HOST = 2,
  /// A list of tensors (`aten::cat`), each read as a MIL var.
  T2C_ROLE_TENSOR_LIST = 3,
  /// Not read at all (device, layout, memory format, cudnn flags).
  T2C_ROLE_IGNORED = 4,
} t2c_input_role;

/// Flags of one input declaration.
#define T2C_INPUT_OPTIONAL 1u /* None is accepted */
/* A TENSOR input that keeps its own class where its dtypes allow it: a bool operand (an attention
   mask, True: attend) reaches the lowering as bool instead of being planned in the node's float
   compute dtype, as operands that type promotion converts are. */
#define T2C_INPUT_KEEPS_CLASS 2u

/// How the output types follow from the input types, as data where a standard rule fits.
typedef enum t2c_infer_rule {
  /// The lowering's `infer` callback computes every output type.
  T2C_INFER_CUSTOM = 0,
  /// One output with the shape and dtype of input 0 (unary elementwise ops).
  T2C_INFER_SAME_AS_INPUT0 = 1,
  /// One output: the numpy broadcast of every T2C_ROLE_TENSOR input; float if any input is float.
  T2C_INFER_BROADCAST = 2,
} t2c_infer_rule;

/// Flags of one lowering declaration.
/// The op is an identity in inference (dropout, contiguous, detach): output 0 is input 0. The core
/// removes such nodes while canonicalizing, and never calls `lower` for them.
#define T2C_LOWERING_PASSTHROUGH 1u

/// The kind of a node input as the core sees it after constant evaluation.
typedef enum t2c_value_kind {
  T2C_KIND_NONE = 0,
  T2C_KIND_TENSOR = 1,
  T2C_KIND_INT = 2,
  T2C_KIND_FLOAT = 3,
  T2C_KIND_BOOL = 4,
  T2C_KIND_INT_LIST = 5,
  T2C_KIND_FLOAT_LIST = 6,
  T2C_KIND_BOOL_LIST = 7,
  T2C_KIND_STRING = 8,
  T2C_KIND_TENSOR_LIST = 9,
  T2C_KIND_OTHER = 10,
} t2c_value_kind;

/// A static tensor type. Scalars have rank 0.
typedef struct t2c_tensor_type {
  int32_t dtype; /* t2c_dtype */
  int32_t rank;
  int64_t dims[T2C_MAX_RANK];
} t2c_tensor_type;

/// A MIL var handle. 0 is never a valid var.
typedef int32_t t2c_var;

/// One named input of an emitted MIL op; tuple parameters (concat's `values`) carry several vars.
typedef struct t2c_named_arg {
  const char* name;
  const t2c_var* vars;
  uint32_t num_vars;
} t2c_named_arg;

/// Opaque per-node context owned by the core.
typedef struct t2c_context t2c_context;

/// Functions the core offers to a lowering. Valid only during the callback that received them.
/// Append-only: every function within the first T2C_HOST_API_MIN_SIZE bytes is always there; a
/// plugin checks `struct_size` before calling one appended after them (the SDK does).
typedef struct t2c_host_api {
  uint32_t struct_size;
  uint32_t abi_version;

  /* --- the node ------------------------------------------------------------------------------ */
  /// The node's schema name with overload ("aten::add.Tensor"), as the registry matched it.
  const char* (*node_kind)(t2c_context* ctx);
  uint32_t (*num_inputs)(t2c_context* ctx);
  uint32_t (*num_outputs)(t2c_context* ctx);

  /* --- inputs, available to infer and lower ------------------------------------------------- */
  int32_t (*input_kind)(t2c_context* ctx, uint32_t i); /* t2c_value_kind */
  /// Type of a tensor input. During `infer`, floating tensors appear as FP32: the precision planner
  /// chooses actual float dtypes after type inference.
  t2c_status (*input_type)(t2c_context* ctx, uint32_t i, t2c_tensor_type* out);
  /// 1 when a tensor input's data is known at conversion time (a weight), else 0.
  int32_t (*input_is_const)(t2c_context* ctx, uint32_t i);
  t2c_status (*input_int)(t2c_context* ctx, uint32_t i, int64_t* out);
  /// Reads an int or float input as a double.
  t2c_status (*input_float)(t2c_context* ctx, uint32_t i, double* out);
  t2c_status (*input_bool)(t2c_context* ctx, uint32_t i, int32_t* out);
  /// An int list (an int is read as a list of one). The pointer is valid during the callback.
  t2c_status (*input_ints)(t2c_context* ctx, uint32_t i, const int64_t** data, uint32_t* n);
  t2c_status (*input_string)(t2c_context* ctx, uint32_t i, const char** out);
  /// Number of tensors in a T2C_KIND_TENSOR_LIST input.
  t2c_status (*input_list_size)(t2c_context* ctx, uint32_t i, uint32_t* n);
  t2c_status (*input_list_type)(t2c_context* ctx, uint32_t i, uint32_t k, t2c_tensor_type* out);

  /* --- infer only ---------------------------------------------------------------------------- */
  t2c_status (*set_output_type)(t2c_context* ctx, uint32_t i, const t2c_tensor_type* type);

  /* --- lower only ---------------------------------------------------------------------------- */
  /// The float dtype the core planned for this node's computation (FP16 or FP32).
  int32_t (*compute_dtype)(t2c_context* ctx);
  /// The dtype planned for T2C_ROLE_PARAM inputs.
  int32_t (*param_dtype)(t2c_context* ctx);
  /// The planned type of output i: the inferred shape with the planned dtype.
  t2c_status (*output_type)(t2c_context* ctx, uint32_t i, t2c_tensor_type* out);
  /// Input i as a MIL var in its planned dtype (the core has inserted any cast already).
  t2c_status (*input_var)(t2c_context* ctx, uint32_t i, t2c_var* out);
  /// Element k of a tensor-list input as a MIL var in its planned dtype.
  t2c_status (*input_list_var)(t2c_context* ctx, uint32_t i, uint32_t k, t2c_var* out);
  t2c_status (*var_type)(t2c_context* ctx, t2c_var var, t2c_tensor_type* out);
  /// A constant from float data. `dtype` must be FP16 or FP32; the core stores the values in it.
  t2c_status (*const_floats)(t2c_context* ctx, int32_t dtype, const float* data, int32_t rank,
                             const int64_t* dims, t2c_var* out);
  /// An INT32 constant. Values outside the int32 range are refused.
  t2c_status (*const_ints)(t2c_context* ctx, const int64_t* data, int32_t rank, const int64_t* dims,
                           t2c_var* out);
  t2c_status (*const_bools)(t2c_context* ctx, const int32_t* data, int32_t rank,
                            const int64_t* dims, t2c_var* out);
  t2c_status (*const_string)(t2c_context* ctx, const char* value, t2c_var* out);
  /// Appends a MIL op (`op_type` as in Core ML's opset, "conv", "add", ...). Casts are the core's
  /// job: a lowering never emits "cast". `out_vars` receives one var per output type.
  t2c_status (*emit)(t2c_context* ctx, const char* op_type, const t2c_named_arg* args,
                     uint32_t num_args, const t2c_tensor_type* out_types, uint32_t num_outputs,
                     t2c_var* out_vars);
  /// Binds output i of the TorchScript node to a var.
  t2c_status (*set_output)(t2c_context* ctx, uint32_t i, t2c_var var);

  /* --- both ---------------------------------------------------------------------------------- */
  /// Records why the lowering failed; the callback then returns T2C_ERROR.
  void (*fail)(t2c_context* ctx, const char* message);
  /// A warning shown in the conversion summary.
  void (*warn)(t2c_context* ctx, const char* message);

  /* --- appended in ABI 1 for ops returning Tensor[] (chunk, split, unbind) and unused outputs */
  /// Infer: output i is a list of `n` tensors of these types.
  t2c_status (*set_output_list_types)(t2c_context* ctx, uint32_t i, const t2c_tensor_type* types,
                                      uint32_t n);
  /// Lower: the planned type of element k of list output i.
  t2c_status (*output_list_type)(t2c_context* ctx, uint32_t i, uint32_t k, t2c_tensor_type* out);
  /// Lower: binds list output i to `n` vars.
  t2c_status (*set_output_list)(t2c_context* ctx, uint32_t i, const t2c_var* vars, uint32_t n);
  /// Both: 1 when output i of the node is read by anything (another node or a model output).
  /// An unused output still needs a type and a var; a lowering may bind any var of that type.
  int32_t (*output_is_used)(t2c_context* ctx, uint32_t i);
  /// A float list (interpolate's scale_factors); ints and a single number are accepted too.
  /// The pointer is valid during the callback.
  t2c_status (*input_floats)(t2c_context* ctx, uint32_t i, const double** data, uint32_t* n);

  /* --- appended: the deployment target, so that a lowering can choose an op per target ------ */
  /// Lower: the iOS major version the program targets (15 = iOS15/CoreML5 ... 18 = iOS18/CoreML8);
  /// ops newer than it are refused (docs/mil-ops.md lists each op's first version). 0 in infer.
  int32_t (*deployment_target)(t2c_context* ctx);

  /* --- appended: Tensor?[] lists (aten::index's indices), whose elements may be None --------- */
  /// Both: the t2c_value_kind of element k of tensor-list input i: T2C_KIND_TENSOR, or
  /// T2C_KIND_NONE for a None element (a TENSOR_LIST input declared T2C_INPUT_OPTIONAL accepts
  /// them); T2C_KIND_OTHER when there is no such element.
  int32_t (*input_list_kind)(t2c_context* ctx, uint32_t i, uint32_t k);

  /* --- appended: bool lists (bool[] arguments, such as a backward op's output_mask) --------- */
  /// Both: a T2C_KIND_BOOL_LIST input (a single bool is read as a list of one), each element 0
  /// or 1. The pointer is valid during the callback.
  t2c_status (*input_bools)(t2c_context* ctx, uint32_t i, const int32_t** data, uint32_t* n);
#ifdef T2C_TEST_APPENDED_FIELD
  /* Only in the ABI growth test build: stands for a host function appended by a later SDK. */
  t2c_status (*test_appended_function)(t2c_context* ctx);
#endif
} t2c_host_api;

/// Callback signatures. `user_data` is the declaration's own pointer.
typedef t2c_status (*t2c_infer_fn)(const t2c_host_api* api, t2c_context* ctx, void* user_data);
typedef t2c_status (*t2c_lower_fn)(const t2c_host_api* api, t2c_context* ctx, void* user_data);

/// What a lowering expects of input i.
typedef struct t2c_input_decl {
  const char* name;      /* the schema argument name, for reports */
  int32_t role;          /* t2c_input_role */
  t2c_dtype_mask dtypes; /* accepted MIL dtypes for TENSOR/PARAM/TENSOR_LIST roles */
  uint32_t flags;        /* T2C_INPUT_* */
} t2c_input_decl;

/// One lowering: everything the registry and the precision planner read without running it.
typedef struct t2c_lowering_decl {
  uint32_t struct_size;
  /// A short name for reports ("convolution").
  const char* name;
  /// Ops it lowers: "ns::name.overload" for one overload, "ns::name" for all of them.
  const char* const* ops;
  uint32_t num_ops;
  /// Higher wins when several plugins claim an op; equal priorities are a conflict.
  int32_t priority;
  int32_t fp16_policy; /* t2c_fp16_policy */
  const t2c_input_decl* inputs;
  uint32_t num_inputs;
  int32_t infer_rule; /* t2c_infer_rule */
  t2c_infer_fn infer; /* required when infer_rule is T2C_INFER_CUSTOM */
  t2c_lower_fn lower; /* may be null only for T2C_LOWERING_PASSTHROUGH */
  void* user_data;
  uint32_t flags; /* T2C_LOWERING_* */
  /// Optional full schemas ("mylib::fancy_gelu(Tensor x) -> Tensor") for ops outside aten that the
  /// core must register before LibTorch can load a model calling them. May be null.
  const char* const* schemas;
  uint32_t num_schemas;
  /* --- appended: FP16 limits as data (a declaration of the first layout has none) ----------- */
  /// The limits of FP16 this lowering declares, read by the precision planner under calibration.
  /// Each element's `struct_size` must equal the first's. May be null.
  const t2c_fp16_limit* fp16_limits;
  uint32_t num_fp16_limits;
#ifdef T2C_TEST_APPENDED_FIELD
  /* Only in the ABI growth test build: stands for a field appended by a later SDK. */
  uint64_t test_appended_field;
#endif
} t2c_lowering_decl;

/// What `ts2coreml_plugin_entry` returns: constant data, built without running plugin code.
typedef struct t2c_plugin_info {
  uint32_t abi_version;
  uint32_t struct_size;
  const char* name;
  const char* version;
  const t2c_lowering_decl* lowerings;
  uint32_t num_lowerings;
#ifdef T2C_TEST_APPENDED_FIELD
  /* Only in the ABI growth test build: stands for a field appended by a later SDK. */
  uint64_t test_appended_field;
#endif
} t2c_plugin_info;

/// What `ts2coreml_plugin_header` holds: integers only, so its bytes in the library file need no
/// relocation and the registry reads them before loading the library. Append-only like the rest;
/// `header_size` tells a reader how much of it the plugin wrote.
typedef struct t2c_plugin_header {
  uint32_t magic;              /* T2C_HEADER_MAGIC */
  uint32_t header_size;        /* sizeof(t2c_plugin_header) of the plugin's SDK */
  uint32_t abi_version;        /* T2C_ABI_VERSION of the plugin's SDK; must equal the info's */
  uint32_t plugin_info_size;   /* sizeof(t2c_plugin_info); must equal the info's struct_size */
  uint32_t lowering_decl_size; /* sizeof(t2c_lowering_decl); must equal every decl's */
  uint32_t host_api_size;      /* sizeof(t2c_host_api) the plugin was compiled against */
} t2c_plugin_header;

/// The first published layout's sizes (LP64), frozen: a struct_size below these is refused, and
/// they never change when fields are appended.
#define T2C_PLUGIN_HEADER_MIN_SIZE 24u
#define T2C_PLUGIN_INFO_MIN_SIZE 40u
#define T2C_LOWERING_DECL_MIN_SIZE 104u
#define T2C_HOST_API_MIN_SIZE 272u

typedef const t2c_plugin_info* (*t2c_entry_fn)(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#if defined(__cplusplus) && UINTPTR_MAX == UINT64_MAX
static_assert(sizeof(t2c_plugin_header) >= T2C_PLUGIN_HEADER_MIN_SIZE, "header below layout 1");
static_assert(sizeof(t2c_plugin_info) >= T2C_PLUGIN_INFO_MIN_SIZE, "info below layout 1");
static_assert(sizeof(t2c_lowering_decl) >= T2C_LOWERING_DECL_MIN_SIZE, "decl below layout 1");
static_assert(sizeof(t2c_host_api) >= T2C_HOST_API_MIN_SIZE, "host table below layout 1");
static_assert(sizeof(t2c_fp16_limit) >= T2C_FP16_LIMIT_MIN_SIZE, "fp16 limit below layout 1");
#endif

#endif  // TS2COREML_PLUGIN_ABI_H_
