// For tsc only: the AssemblyScript integer type the shared redaction core
// (rules.ts, also compiled by asc into the redact-args plugin) is written with.
// asc never reads this file (nothing imports it).
type i32 = number;
