#!/bin/sh
# conformance.sh MCZ_PARTITION RUN_PARTS OUT_DIR ROOT...
# Split every model.onnx under the ROOTs (the ONNX conformance corpus) into 2 and 3 parts and
# run the parts against the whole model in ONNX Runtime (run-parts.js: identical outputs).
# A refusal is fine when it is one of the documented ones (fewer nodes than parts, no cut with
# tensors of known element type, nothing to place); any other failure, a crash, or parts that
# differ from the whole model fails the test, and so does a run in which fewer than MIN_PASSED
# (default 100) splits were checked: an empty corpus does not pass.
tool=$1 run=$2 out=$3
shift 3
min=${MIN_PASSED:-100}
passed=0 failed=0 refused=0 skipped=0
mkdir -p "$out" || exit 1
for root in "$@"; do
  for model in $(find "$root" -name model.onnx | sort); do
    for k in 2 3; do
      dir="$out/p"
      msg=$("$tool" "$model" -o "$dir/" --parts $k -f -q 2>&1)
      rc=$?
      if [ $rc -eq 1 ]; then
        case $msg in
          *"cannot make $k parts: the main graph has"*|*"passes only tensors of known element type"*|*"has no node to place"*)
            refused=$((refused + 1)); continue ;;
        esac
      fi
      if [ $rc -ne 0 ]; then
        echo "FAIL $model K=$k: mcz-partition exit $rc: $msg"
        failed=$((failed + 1))
        continue
      fi
      res=$(node "$run" "$model" "$dir" 2>&1)
      rc=$?
      if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
      elif [ $rc -eq 2 ]; then
        skipped=$((skipped + 1)) # ONNX Runtime cannot run the whole model itself
      else
        echo "FAIL $model K=$k: $(printf '%s' "$res" | tail -2 | tr '\n' ' ')"
        failed=$((failed + 1))
      fi
    done
  done
done
echo "conformance: $passed identical, $failed failed, $refused refused (too few nodes or no typed cut), $skipped skipped (ONNX Runtime cannot run the model)"
[ $failed -eq 0 ] && [ $passed -ge "$min" ]
