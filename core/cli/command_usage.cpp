#include "core/cli/command_usage.h"

namespace ts2coreml::core {

std::string ConvertUsage() {
  return R"(  convert MODEL.pt -o OUT.mlpackage --input NAME:SHAPE [...]
      Converts a TorchScript model to a Core ML ML Program package.
      --input NAME:SHAPE[:DTYPE]
                             a forward() argument, its shape and dtype (fp32 default, fp16,
                             int32, int64, bool), e.g. x:1x3x224x224 or ids:1x128:int64; int64
                             and bool cross the Core ML boundary as int32 (one per input)
      --output NAME          name of the next model output (repeatable; default: dict keys, else
                             output_N)
      --precision fp16|fp32|auto
                             compute precision (default fp16); auto converts in fp16 (with
                             calibration, --calibrate 3 unless given), measures the package
                             in the reference interpreter against LibTorch and keeps the
                             shortest fp32 prefix reaching --min-cosine (docs/precision.md)
      --min-cosine C         the target of --precision auto (default 0.9999)
      --target ios15|ios16|ios17   deployment target (default ios16)
      --io-dtype fp32|fp16   dtype of model inputs and outputs (default fp32; fp16 needs ios16+)
      --force                replace an existing output
      --keep-fp32 RULE       keep matching ops in fp32 (repeatable): an op kind
                             (aten::layer_norm), a module path (enc.layers.0) or re:REGEX
      --fp16-all             run every op in fp16, overriding lowerings' own fp32 wishes
      --calibrate N          run the model in LibTorch on N random inputs first (seeds S..S+N-1,
                             made as verify makes them) and keep an op fp32 only where the
                             measured ranges cross a limit its lowering declares
                             (docs/precision.md)
      --calibration-seed S   the first calibration seed (default 1000, apart from verify's 0..)
      --calibration-data NAME=FILE.npy
                             one more calibration run on these input values (repeatable, one
                             per input; the other inputs random)
)";
}

std::string CoverageUsage() {
  return R"(  coverage MODEL.pt [--input NAME:SHAPE[:DTYPE] ...] [--precision ...] [--target ...] [--json]
      Lists every op kind, the lowering that takes it, its planned compute dtype and why it is
      not fp16, and every unsupported op at once; writes nothing. Takes convert's precision
      options (--keep-fp32, --fp16-all, --io-dtype). Exit 0 when all is covered, 3 when not.
)";
}

std::string VerifyUsage() {
  return R"(  verify MODEL.pt PKG.mlpackage [--runs N] [--seed S] [--input NAME=FILE.npy] [--json]
         [--torch-library FILE.so] [--reference NAME=FILE.npy]
      Runs the model in LibTorch (FP32) and the package in the reference interpreter on the same
      inputs and compares each output. Exit 0 within tolerance, 1 when not.
      --runs N, --seed S        random inputs: N runs (default 1) from seed S (default 0)
      --input NAME=FILE.npy     an input's values (float16/32/64, int32/64 or bool, C order)
                                instead of random ones (random ids stay below an embedding's
                                size; other integers lie in [0, 10))
      --min-cosine C, --max-rel-error R, --max-abs-error A, --min-top1 T
                                tolerances (defaults depend on the package's precision)
      --torch-library FILE.so   load a library of op kernels (TORCH_LIBRARY) first, for custom
                                ops whose plugin declares only the schema (repeatable; the
                                permission rule of plugins applies)
      --reference NAME=FILE.npy compare output NAME with these values, computed elsewhere,
                                instead of running LibTorch (one per output, every input
                                given with --input)
      --localize                when outputs disagree, name the first op whose error jumps
      --time                    print LibTorch's and the interpreter's time per run (the
                                first of several runs is a warm-up and not counted)
      --json                    the report as JSON
)";
}

}  // namespace ts2coreml::core
