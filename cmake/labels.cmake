# ctest labels for every test under tests/. Included by tests/CMakeLists.txt before its
# add_subdirectory calls: add_test is wrapped so that, at the end of each directory, the
# directory's tests are classified from their own properties (COMMAND, FIXTURES_*), which
# CMake before 3.28 lets only that directory read. Each test gets exactly one kind and any of
# the requirements:
#   unit         a C unit suite (Check) or an instant self-check: no ONNX Runtime, no
#                downloaded models, seconds for all of them (ctest -L unit)
#   integration  everything else: the built tools driven by scripts, corpora, installs
#   ort          runs ONNX Runtime (through node: tests/ort/compare.js, run-parts.js, ...)
#   models       needs the real models fetched into $MCZ_CACHE (~/.cache/mcz/models)
#   slow         takes more than about 5 s (MCZ_SLOW_TESTS below, measured)
# A test requiring a fixture inherits ort / models / slow from the fixture's setup tests, since
# ctest runs those setups with it: `ctest -LE 'ort|models|slow'` then runs none of them.
# Labels set in a tests/*/CMakeLists.txt are kept (APPEND).

# The Check suites, by name; container.pack_big (tensors larger than the writer's window, ~10 s)
# is one too but is left to integration + slow so that `ctest -L unit` stays a few seconds.
set(MCZ_UNIT_REGEX "^(unit\\.|container\\.(loader|loader_ext|pack)$|prune\\.unit$|partition\\.unit\\.|quantize\\.unit\\.|html\\.unit$|tests\\.labelled$|eco\\.layers$)")

# Scripts that run ONNX Runtime: the node harnesses that load tests/ort/lib.js, and the shell
# scripts calling them (mczext/roundtrip.sh only in its partK cases). A test whose COMMAND
# names one of these is `ort`.
set(MCZ_ORT_REGEX "(/tests/ort/compare\\.js|/tests/ort/check-expected\\.js|/run-parts\\.js|/qerror\\.js|/mlp-forward\\.js|/container/corpus\\.sh|/mczext/roundtrip\\.sh [^ ]+ [^ ]+ [^ ]+ part[0-9]|/partition/conformance\\.sh|/samples/run\\.sh|/samples/big\\.sh)")

# Tests taking more than ~5 s under `ctest -j2` on a 2-core machine (RelWithDebInfo), by name.
# Re-measure with `ctest --test-dir build -j2` when tests change; a name here that is not a test
# fails the configure.
set(MCZ_SLOW_TESTS
  partition.conformance       # ~60 s: every conformance model split and run in ONNX Runtime
  samples.over-2gib           # ~35 s: a model over 2 GiB written, packed and run
  container.corpus            # ~25 s: pack -> unpack over the whole ONNX corpus
  golden.outputs              # ~20 s: every tool's output bytes on the real models
  container.pack_big          # ~10 s: tensors larger than the writer's window
  mczext.ppocrv4-det.prune    # ~8 s
  mczext.ppocrv4-rec.prune    # ~8 s
  eco.progress.log            # ~6 s: waits for the progress reporter's log interval
)

# add_test as given, then remember the test for _mcz_label_directory. Each argument is passed
# on as a bracket argument, so semicolons, quotes and brackets in commands are kept verbatim.
function(add_test)
  set(code "_add_test(")
  math(EXPR last "${ARGC} - 1")
  foreach(i RANGE ${last})
    string(APPEND code " [=====[${ARGV${i}}]=====]")
  endforeach()
  cmake_language(EVAL CODE "${code})")
  if(ARGV0 STREQUAL "NAME")
    set(name "${ARGV1}")
  else()
    set(name "${ARGV0}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY MCZ_LABEL_TESTS "${name}")
  # the arguments as one string (a test's COMMAND cannot be read back as a property)
  set(line)
  foreach(i RANGE ${last})
    string(APPEND line " ${ARGV${i}}")
  endforeach()
  set_property(DIRECTORY PROPERTY MCZ_LABEL_COMMAND_${name} "${line}")
  get_property(deferred DIRECTORY PROPERTY MCZ_LABEL_DEFERRED)
  if(NOT deferred)
    set_property(DIRECTORY PROPERTY MCZ_LABEL_DEFERRED TRUE)
    cmake_language(DEFER CALL _mcz_label_directory)
  endif()
endfunction()

# At the end of a directory: label its tests. Fixture setups (global property
# MCZ_FIXTURE_LABELS_<fixture>) come from this directory and the ones processed before it.
function(_mcz_label_directory)
  get_property(tests DIRECTORY PROPERTY MCZ_LABEL_TESTS)
  foreach(t ${tests})
    get_property(cmdline DIRECTORY PROPERTY MCZ_LABEL_COMMAND_${t})
    get_property(req TEST ${t} PROPERTY FIXTURES_REQUIRED)
    get_property(setup TEST ${t} PROPERTY FIXTURES_SETUP)
    if(t MATCHES "${MCZ_UNIT_REGEX}")
      set(l unit)
    else()
      set(l integration)
    endif()
    if(cmdline MATCHES "${MCZ_ORT_REGEX}")
      list(APPEND l ort)
    endif()
    if("real_models" IN_LIST req OR "real_models" IN_LIST setup)
      list(APPEND l models)
    endif()
    if(t IN_LIST MCZ_SLOW_TESTS)
      list(APPEND l slow)
    endif()
    set(_l_${t} ${l})
    set(_req_${t} ${req})
    set(_setup_${t} ${setup})
  endforeach()

  set(changed TRUE)
  while(changed)
    set(changed FALSE)
    foreach(t ${tests})
      foreach(f ${_req_${t}})
        get_property(inherited GLOBAL PROPERTY MCZ_FIXTURE_LABELS_${f})
        foreach(x ${inherited})
          if(NOT x IN_LIST _l_${t})
            list(APPEND _l_${t} ${x})
            set(changed TRUE)
          endif()
        endforeach()
      endforeach()
      foreach(f ${_setup_${t}})
        get_property(have GLOBAL PROPERTY MCZ_FIXTURE_LABELS_${f})
        foreach(x ort models slow)
          if(x IN_LIST _l_${t} AND NOT x IN_LIST have)
            set_property(GLOBAL APPEND PROPERTY MCZ_FIXTURE_LABELS_${f} ${x})
            set(changed TRUE)
          endif()
        endforeach()
      endforeach()
    endforeach()
  endwhile()

  foreach(t ${tests})
    set_property(TEST ${t} APPEND PROPERTY LABELS ${_l_${t}})
    set_property(GLOBAL APPEND PROPERTY MCZ_LABELLED_TESTS ${t})
  endforeach()
endfunction()

# After all add_subdirectory calls: every test of every directory below DIR went through the
# wrapper (so has a kind label), and every name in MCZ_SLOW_TESTS is a test (a renamed test
# would otherwise drop out of `slow` silently).
function(mcz_check_labels dir)
  get_property(labelled GLOBAL PROPERTY MCZ_LABELLED_TESTS)
  set(dirs ${dir})
  set(missing)
  while(dirs)
    list(POP_FRONT dirs d)
    get_property(subs DIRECTORY ${d} PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subs})
    get_property(ts DIRECTORY ${d} PROPERTY TESTS)
    foreach(t ${ts})
      if(NOT t IN_LIST labelled)
        list(APPEND missing ${t})
      endif()
    endforeach()
  endwhile()
  if(missing)
    message(FATAL_ERROR "tests without a ctest label (cmake/labels.cmake): ${missing}")
  endif()
  foreach(t ${MCZ_SLOW_TESTS})
    if(NOT t IN_LIST labelled)
      message(FATAL_ERROR "MCZ_SLOW_TESTS names ${t}, which is not a test (cmake/labels.cmake)")
    endif()
  endforeach()
endfunction()
