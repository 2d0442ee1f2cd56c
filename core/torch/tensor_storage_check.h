/// Checks, right after torch::jit::load and before anything reads a weight, that every tensor a
/// module holds lies inside its storage.
///
/// LibTorch 1.13 builds tensors from the offset, sizes and strides a file states without checking
/// them against the storage, so a crafted file can make a weight reach past its bytes (into the
/// converter's heap, which would then be written into weight.bin) or before them. The archive
/// pre-check (core/model/archive_precheck.h) refuses such files already; this check is the second
/// line, on what LibTorch actually built: module attributes (parameters, buffers, tensors in
/// lists, tuples, dicts and objects, recursively) and the tensor constants of every method graph.
///
///   absl::Status s = CheckModuleTensors(module);  // "tensor 'conv.weight' (...) reaches ..."
#ifndef TS2COREML_CORE_TORCH_TENSOR_STORAGE_CHECK_H_
#define TS2COREML_CORE_TORCH_TENSOR_STORAGE_CHECK_H_

#include <string>

#include "absl/status/status.h"
#include "torch/csrc/jit/api/module.h"

namespace ts2coreml::core {

/// Whether `tensor` (named `name` in messages) lies inside its storage: no negative stride or
/// offset, and (offset + the largest reachable element index + 1) * itemsize <= the storage's
/// bytes, computed without overflow. Errors are class kModel.
absl::Status CheckTensorInStorage(const at::Tensor& tensor, const std::string& name);

/// Checks every tensor `module` holds (attributes recursively, graph constants of its methods).
absl::Status CheckModuleTensors(const torch::jit::Module& module);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_TENSOR_STORAGE_CHECK_H_
