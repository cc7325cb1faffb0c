// The live page's text for numbers, all through the site's formatter (numbers.js), plus the plain
// form the #live-state element carries for scripts and tests.
import "../numbers.js";   // a classic script: defines globalThis.SiteNumbers, the site's formatter

export const {formatEs, power} = globalThis.SiteNumbers;

const PLAIN = new Intl.NumberFormat("en-US", {useGrouping: false, maximumSignificantDigits: 17});

// A number as a plain decimal, no grouping, every digit kept: for data attributes, not readers.
export const plain = v => PLAIN.format(v);

// A number for readers with `digits` decimals.
export const fixed = (v, digits = 1) => formatEs(v, `.${digits}f`, "text");

// 10^exponent as "10⁻⁷" when the exponent is whole, else "2.0 × 10⁻⁷" (the formatter carries a
// mantissa that rounds up to 10 into the exponent).
export function scientific(exponent) {
  const whole = Math.round(exponent);
  return Math.abs(exponent - whole) < 1e-9 ? power(whole) : formatEs(10 ** exponent, ".1e", "text");
}
