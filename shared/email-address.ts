// The one address check: RingCentral participants, mapping overrides, the mappings and replay endpoints.

// Characters that never appear in a plain mailbox address (spaces, '@' again, and the header
// punctuation that would let a value break out of an address field).
const NOT_ADDRESS = String.raw`\s@<>()[\]\\,;:"`;

// Both quantified classes exclude '@', so the '@' can sit at one place only and each character is
// looked at a bounded number of times: linear in the length. The old single pattern
// `^[^…]+@[^…]+\.[^…]+$` let the two domain runs overlap on every '.', which backtracks
// quadratically (over a second at 40,000 characters).
const LOCAL_AT_DOMAIN = new RegExp(`^[^${NOT_ADDRESS}]+@[^${NOT_ADDRESS}]+$`);

/** `local@domain` with a '.' inside the domain (not first, not last), and no spaces or header punctuation. */
export function isPlausibleEmail(value: string | undefined): value is string {
  if (!value || !LOCAL_AT_DOMAIN.test(value)) return false;
  const domain = value.slice(value.indexOf('@') + 1);
  return domain.slice(1, -1).includes('.');
}
