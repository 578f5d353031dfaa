# Build helpers shared by the library, tests, examples and benchmarks.

# One precompiled <torch/torch.h>, made once by the library and reused by
# every target (a second one adds GoogleTest for the test binaries): each
# precompiled header costs about as much as a whole translation unit, and
# every target that skips it parses LibTorch's headers from scratch.
# GCC takes a precompiled header only with the code model it was made with:
# every user compiles with -fPIC like the library (CMake's
# POSITION_INDEPENDENT_CODE would give executables -fPIE, and Debian's GCC
# defaults to -fPIE; GCC then ignores the header and parses LibTorch's
# headers again, warning with -Winvalid-pch).
function(torchclr_use_torch_pch target)
  target_compile_options(${target} PRIVATE -fPIC)
  target_precompile_headers(${target} REUSE_FROM torchclr)
endfunction()

function(torchclr_use_test_pch target)
  if(NOT TARGET torchclr_test_pch)
    add_library(torchclr_test_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/empty.cpp)
    target_compile_options(torchclr_test_pch PRIVATE -fPIC)
    # The users' warning flags too: -Wpedantic changes what GCC predefines
    # (__cpp_runtime_arrays), and GCC then refuses the header.
    torchclr_set_warnings(torchclr_test_pch)
    target_link_libraries(torchclr_test_pch PRIVATE torchclr GTest::gmock)
    target_precompile_headers(torchclr_test_pch PRIVATE
      <torch/torch.h> <gtest/gtest.h> <gmock/gmock.h>)
  endif()
  target_compile_options(${target} PRIVATE -fPIC)
  target_precompile_headers(${target} REUSE_FROM torchclr_test_pch)
endfunction()

# Registers the GoogleTest binary `target` with CTest (label "unit"): one
# CTest test per GoogleTest test by default, for per-test times and -R; with
# TORCHCLR_TEST_SHARDS=N, N tests that each run a 1/N share of them in one
# process (GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX): the same tests with N
# LibTorch start-ups instead of hundreds (CI's sanitizer and LibTorch 2.x
# stages). Extra arguments are test properties.
set(TORCHCLR_TEST_SHARDS 0 CACHE STRING
  "Run each GoogleTest binary as this many CTest tests (0: one per test)")
function(torchclr_add_gtest target)
  set_property(GLOBAL APPEND PROPERTY TORCHCLR_GTEST_TARGETS ${target})
  if(TORCHCLR_TEST_SHARDS GREATER 0)
    math(EXPR last "${TORCHCLR_TEST_SHARDS} - 1")
    foreach(shard RANGE ${last})
      set(name ${target}.shard${shard}of${TORCHCLR_TEST_SHARDS})
      add_test(NAME ${name} COMMAND ${target})
      set_tests_properties(${name} PROPERTIES LABELS unit
        ENVIRONMENT "GTEST_TOTAL_SHARDS=${TORCHCLR_TEST_SHARDS};GTEST_SHARD_INDEX=${shard}"
        ${ARGN})
    endforeach()
  else()
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
      PROPERTIES LABELS unit ${ARGN})
  endif()
endfunction()

# Where tests/test_util.cpp finds tests/data/: a definition on that one file,
# so the other test files compile to the same objects in any checkout (and
# hit the compiler cache of another clone).
function(torchclr_test_data_dir target)
  set_property(SOURCE ${PROJECT_SOURCE_DIR}/tests/test_util.cpp
    TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_DEFINITIONS
    TORCHCLR_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data")
endfunction()

# Unity builds: each target's sources compiled a dozen at a time (a third of
# the CPU of one compiler run per source, measured on a cold cache). Unlike
# CMake's own unity files, which include the sources by absolute path, each
# batch here includes them by a path relative to itself, so a batch is the
# same text in every checkout and ccache hits across clones. Sources with
# their own compile options or definitions keep their own compiler run.
option(TORCHCLR_UNITY_BUILD "Compile each target's sources in batches" OFF)
set(TORCHCLR_UNITY_BATCH_SIZE 12 CACHE STRING "Sources per unity batch")

function(torchclr_unity_target target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(batch_dir ${CMAKE_BINARY_DIR}/unity/${target})
  set(kept "")
  set(batches "")
  set(text "")
  set(count 0)
  foreach(source IN LISTS sources)
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${source_dir})
    get_source_file_property(options ${path} DIRECTORY ${source_dir} COMPILE_OPTIONS)
    get_source_file_property(definitions ${path} DIRECTORY ${source_dir} COMPILE_DEFINITIONS)
    if(NOT path MATCHES "\\.cpp$" OR options OR definitions)
      list(APPEND kept ${path})
      continue()
    endif()
    file(RELATIVE_PATH relative ${batch_dir} ${path})
    string(APPEND text "#include \"${relative}\"\n")
    math(EXPR count "${count} + 1")
    if(count EQUAL TORCHCLR_UNITY_BATCH_SIZE)
      list(LENGTH batches index)
      file(CONFIGURE OUTPUT ${batch_dir}/batch${index}.cpp CONTENT "${text}")
      list(APPEND batches ${batch_dir}/batch${index}.cpp)
      set(text "")
      set(count 0)
    endif()
  endforeach()
  if(count GREATER 0)
    list(LENGTH batches index)
    file(CONFIGURE OUTPUT ${batch_dir}/batch${index}.cpp CONTENT "${text}")
    list(APPEND batches ${batch_dir}/batch${index}.cpp)
  endif()
  set_property(TARGET ${target} PROPERTY SOURCES ${kept} ${batches})
endfunction()

# Every library and executable under `dir` with more than two C++ sources.
function(torchclr_unity_build dir)
  if(NOT TORCHCLR_UNITY_BUILD)
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    get_target_property(sources ${target} SOURCES)
    list(FILTER sources INCLUDE REGEX "\\.cpp$")
    list(LENGTH sources count)
    if(type MATCHES "LIBRARY|EXECUTABLE" AND count GREATER 2)
      torchclr_unity_target(${target})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    torchclr_unity_build(${subdir})
  endforeach()
endfunction()

# `unit_tests`: every GoogleTest binary (CI's sanitizer stage builds these
# and runs CTest's "unit" label).
function(torchclr_unit_tests_target)
  get_property(targets GLOBAL PROPERTY TORCHCLR_GTEST_TARGETS)
  if(targets)
    add_custom_target(unit_tests DEPENDS ${targets})
  endif()
endfunction()
