/// A small reader and writer for NumPy .npy files (format 1.0-3.0): little-endian float16,
/// float32, float64, int32 and int64 arrays and bool arrays in C order, as used by
/// `verify --input x=FILE.npy`.
///
///   absl::StatusOr<NpyArray> a = ReadNpy("x.npy");   // values widened to float
///   absl::Status s = WriteNpy("y.npy", *a, NpyDtype::kFloat16);
///
/// The reader trusts nothing in the file: only a regular file is opened (never a FIFO or a
/// device), the header is at most kMaxNpyHeaderBytes as in NumPy's own reader and is parsed by
/// hand (the dict literal NumPy writes, without eval or regexes), the rank is at most
/// kMaxNpyRank, and the element count and byte size are checked for overflow and against the
/// file's size and the caller's element cap before anything is allocated.
#ifndef TS2COREML_CORE_INTERP_NPY_H_
#define TS2COREML_CORE_INTERP_NPY_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ts2coreml::interp {

enum class NpyDtype { kFloat16, kFloat32, kFloat64, kInt32, kInt64, kBool };

/// Whether `d` is int32, int64 or bool (its values are exact in NpyArray::ints).
bool IsIntegerNpy(NpyDtype d);

/// NumPy's own cap on the header (numpy.lib.format's max_header_size default).
inline constexpr size_t kMaxNpyHeaderBytes = 10000;
/// NumPy 1.x's NPY_MAXDIMS.
inline constexpr size_t kMaxNpyRank = 32;

struct NpyArray {
  std::vector<int64_t> shape;           ///< empty for a 0-d array (one element)
  std::vector<float> values;            ///< C order (integers and bools converted too)
  std::vector<int64_t> ints;            ///< C order, exact: integer and bool arrays only
  NpyDtype dtype = NpyDtype::kFloat32;  ///< as stored in the file
};

struct NpyReadLimits {
  /// Arrays with more elements are refused before their data is read.
  uint64_t max_elements = uint64_t{1} << 31;
};

/// Reads a .npy file. Errors name the file: NotFound/PermissionDenied/FailedPrecondition when it
/// cannot be opened or is not a regular file, InvalidArgument for what is malformed or
/// unsupported (Fortran order, big-endian or other dtypes, a header over the cap, a bad
/// shape), ResourceExhausted over `limits`, DataLoss when the data does not match the shape.
absl::StatusOr<NpyArray> ReadNpy(const std::filesystem::path& path,
                                 const NpyReadLimits& limits = {});

/// Writes `array` (shape and values must agree) in `dtype`; fp16 rounds to nearest even. Integer
/// and bool dtypes write `ints` when it is filled, else `values` truncated.
absl::Status WriteNpy(const std::filesystem::path& path, const NpyArray& array,
                      NpyDtype dtype = NpyDtype::kFloat32);

/// "(1, 3, 224, 224)", "(3,)" or "()", as NumPy prints a shape.
std::string NpyShapeString(const std::vector<int64_t>& shape);

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_NPY_H_
