// The site's number formatter for the browser: the port of generator/common/spanish_numbers.py's
// format_es (the pages, plots and notebook use that one), tested against the same cases
// (tests/common/number_cases.json). A decimal point, a narrow no-break space between thousands groups
// when the integer part has more than four digits, a no-break space before %, 1.2 × 10⁹, and a
// true minus sign.
//
// A classic script, so that it loads from the file system too: it defines
// globalThis.SiteNumbers. The page's classic scripts (explorers.js) read that global; ES modules
// (live/page.js) import this file for its effect and then read the same global; Node's tests
// require() it.
(function (root) {
  "use strict";

  const NNBSP = "\u202f";   // thousands groups and the space around ×
  const NBSP = "\u00a0";    // before %
  const MINUS = "\u2212";
  const SUPERSCRIPTS = {"-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹"};
  const STYLES = ["html", "text"];
  // The subset of Python's format spec the site uses: [,][.precision][d|f|e|g|%].
  const SPEC = /^(,)?(?:\.(\d+))?([dfeg%])?$/;

  // |x| as decimal digits with 41 significant digits ("d.ddd…" → digits, point position), enough
  // to round like Python, which rounds the exact binary value half to even.
  function decimal(x) {
    const [mantissa, exponent] = Math.abs(x).toExponential(40).split("e");
    return {digits: mantissa.replace(".", ""), point: Number(exponent) + 1};
  }

  // Round a digit string to its first `keep` digits, half to even; returns [digits, carried].
  function roundDigits(digits, keep) {
    if (keep < 0) return ["", false];
    const head = digits.slice(0, keep);
    const rest = digits.slice(keep);
    const first = rest.charAt(0);
    const tail = rest.slice(1);
    let up = first > "5" || (first === "5" && (/[1-9]/.test(tail) || (head.length > 0 && Number(head.slice(-1)) % 2 === 1)));
    if (first === "5" && !/[1-9]/.test(tail) && head.length === 0) up = false;   // 0.5 → 0
    if (!up) return [head, false];
    const out = head.split("").map(Number);
    let i = out.length - 1;
    while (i >= 0 && out[i] === 9) { out[i] = 0; i -= 1; }
    if (i < 0) return [`1${out.join("")}`, true];
    out[i] += 1;
    return [out.join(""), false];
  }

  // |x| in fixed point with `places` decimals.
  function fixed(x, places) {
    if (x === 0) return places > 0 ? `0.${"0".repeat(places)}` : "0";
    const {digits, point} = decimal(x);
    let padded = digits;
    let pointAt = point;
    if (pointAt < 1) { padded = "0".repeat(1 - pointAt) + padded; pointAt = 1; }
    const [rounded, carried] = roundDigits(padded, pointAt + places);
    const all = rounded.padEnd(pointAt + places + (carried ? 1 : 0), "0");
    const intLen = pointAt + (carried ? 1 : 0);
    const intPart = all.slice(0, intLen).replace(/^0+(?=\d)/, "");
    return places > 0 ? `${intPart}.${all.slice(intLen)}` : intPart;
  }

  // |x| in scientific notation with `sig` significant digits: [mantissa "d.ddd", exponent].
  function scientific(x, sig) {
    if (x === 0) return [sig > 1 ? `0.${"0".repeat(sig - 1)}` : "0", 0];
    const {digits, point} = decimal(x);
    const [rounded, carried] = roundDigits(digits, sig);
    const exp = point - 1 + (carried ? 1 : 0);
    const d = rounded.slice(0, sig);
    return [sig > 1 ? `${d[0]}.${d.slice(1)}` : d, exp];
  }

  // Python's format(x, spec) for the subset above, without the sign: [mantissa, exponent | null, %].
  function pythonFormat(x, type, precision) {
    const a = Math.abs(x);
    if (type === "d") {
      if (!Number.isInteger(x)) throw new TypeError(`"d" needs an integer, not ${x}`);
      return [fixed(a, 0), null];
    }
    if (type === "f") return [fixed(a, precision ?? 6), null];
    if (type === "%") return [fixed(a * 100, precision ?? 6), null];
    if (type === "e") return scientific(a, (precision ?? 6) + 1);
    if (type === "g" || type === undefined) {
      if (type === undefined && precision === undefined) {
        // Python's str(): an integer as it is; a float in its shortest round-trip digits, in
        // scientific notation below 1e-4 and from 1e16. (A float with an integer value, 5.0,
        // reads "5.0" in Python but is the integer 5 here: pass a type for such numbers.)
        if (Number.isInteger(x)) return [fixed(a, 0), null];
        const [m, e] = a.toExponential().split("e");
        const exp = Number(e);
        if (exp >= -4 && exp < 16) return [a.toFixed(Math.max(0, m.replace(".", "").length - 1 - exp)), null];
        return [m, exp];
      }
      const p = precision === undefined ? 6 : Math.max(precision, 1);
      const [m, exp] = scientific(a, p);
      const strip = s => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
      if (exp >= -4 && exp < p) return [strip(fixed(a, p - 1 - exp)), null];
      return [strip(m), exp];
    }
    throw new TypeError(`unknown format type ${type}`);
  }

  function group(intPart) {
    if (intPart.length <= 4) return intPart;
    const groups = [];
    for (let end = intPart.length; end > 0; end -= 3) groups.unshift(intPart.slice(Math.max(0, end - 3), end));
    return groups.join(NNBSP);
  }

  /**
   * formatEs(x, spec = ".3g", style = "html"): x as the pages print it (generator/common/
   * spanish_numbers.py's format_es). style "html" writes the exponent in <sup>, "text" in
   * superscript digits.
   */
  function formatEs(x, spec = ".3g", style = "html") {
    if (!STYLES.includes(style)) throw new RangeError(`style must be one of ${STYLES}, not ${style}`);
    if (typeof x !== "number" || !Number.isFinite(x)) throw new TypeError(`not a finite number: ${x}`);
    const parsed = SPEC.exec(spec);
    if (!parsed) throw new RangeError(`unsupported format spec ${JSON.stringify(spec)}`);
    const [, comma, digits, type] = parsed;
    const precision = digits === undefined ? undefined : Number(digits);
    const [mantissa, exponent] = pythonFormat(x, type, precision);
    const [intPart, frac] = mantissa.split(".");
    let body = (comma ? group(intPart) : intPart) + (frac !== undefined ? `.${frac}` : "");
    if (exponent !== null && exponent !== undefined) {
      const exp = String(exponent);
      body += style === "html"
        ? `${NNBSP}×${NNBSP}10<sup>${exp.replace("-", MINUS)}</sup>`
        : `${NNBSP}×${NNBSP}10${exp.split("").map(c => SUPERSCRIPTS[c]).join("")}`;
    }
    if (type === "%") body += `${NBSP}%`;
    // Python keeps the sign of a negative number that rounds to zero ("-0"), and so does this.
    if (x < 0 || Object.is(x, -0)) body = MINUS + body;
    return body;
  }

  /** A power of ten as text: power(-3) → "10⁻³". */
  function power(exponent) {
    return `10${String(exponent).split("").map(c => SUPERSCRIPTS[c] ?? c).join("")}`;
  }

  const api = Object.freeze({formatEs, power, NNBSP, NBSP, MINUS});
  root.SiteNumbers = api;
  if (typeof module === "object" && module && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
