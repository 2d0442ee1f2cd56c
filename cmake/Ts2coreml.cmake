# Build helpers shared by every folder.
include(GoogleTest)
set(TS2COREML_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)

# ts2coreml_add_plugin(NAME SOURCES ...): a lowering plugin, built like a third-party one: a MODULE
# library against the SDK only, hidden visibility, one exported entry.
function(ts2coreml_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ts2coreml::sdk)
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${TS2COREML_PLUGIN_OUTPUT_DIR})
  # Only the entry is exported: hidden visibility alone leaves weak libstdc++ template symbols.
  target_link_options(${name} PRIVATE -Wl,--no-undefined
    -Wl,--version-script=${TS2COREML_SOURCE_ROOT}/cmake/plugin_exports.map)
  set_property(TARGET ${name} APPEND PROPERTY
    LINK_DEPENDS ${TS2COREML_SOURCE_ROOT}/cmake/plugin_exports.map)
  add_dependencies(ts2coreml_plugins ${name})
  install(TARGETS ${name} LIBRARY DESTINATION ${TS2COREML_PLUGIN_DIR_NAME})
endfunction()

# ts2coreml_add_test(NAME SOURCES ... LIBS ... [FIXTURES fixture...] [LABELS ...] [TIMEOUT s]
#                    [ONE_PROCESS]):
# a GoogleTest executable whose tests CTest lists one by one ("<executable>.<Suite>.<Test>", so
# `ctest -R <folder>` selects a folder's tests). With ONE_PROCESS, CTest runs the executable once as
# the test "<executable>", all its cases in that process: for executables that load LibTorch, whose
# start-up (its ~290 libraries and operator registrations) would otherwise be paid by every case,
# and by the test listing at build time (docs/performance.md, "CI").
function(ts2coreml_add_test name)
  cmake_parse_arguments(ARG "ONE_PROCESS" "TIMEOUT;FIXTURES" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${ARG_FIXTURES}")
  endif()
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  if(ARG_ONE_PROCESS)
    add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    # A case that skips itself fails the test: every test must run (scripts/test.sh).
    set_tests_properties(${name} PROPERTIES ${props}
      FAIL_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
    return()
  endif()
  gtest_discover_tests(${name}
    TEST_PREFIX "${name}."
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    DISCOVERY_TIMEOUT 60
    PROPERTIES ${props})
endfunction()

# find_package(Torch) for a directory whose targets link LibTorch. Under UBSan, the vptr check of a
# translation unit that queries JIT types references the typeinfo of classes libtorch does not
# export (c10::DynamicType): an undefined symbol at link time, in that build only. The check is
# off for every target linking `torch` (LibTorch itself is not built with it).
macro(ts2coreml_find_torch)
  find_package(Torch REQUIRED)
  if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=[^ ]*(undefined|vptr)")
    set_property(TARGET torch APPEND PROPERTY INTERFACE_COMPILE_OPTIONS -fno-sanitize=vptr)
  endif()
endmacro()
