/// The exported entry of the indexing plugin library.
#include "indexing/indexing_lowerings.h"
#include "ts2coreml/sdk.h"

TS2COREML_PLUGIN_HEADER()

extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return ts2coreml::plugins::IndexingPluginInfo();
}
