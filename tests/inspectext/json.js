// json.js FILE CHECK: FILE parses as JSON and the JavaScript expression CHECK (over `j`, the
// parsed value) is true; prints the value when it is not.
const fs = require("fs");
const j = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ok = Function("j", "return (" + process.argv[3] + ");")(j);
if (!ok) {
  console.log("FAIL: " + process.argv[3] + "\n" + JSON.stringify(j, null, 1));
  process.exit(1);
}
console.log("ok: " + process.argv[3]);
