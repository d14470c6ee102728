// Messages about an option that holds a secret (a password, a token, a URL with credentials)
// must not carry the secret: what a parser or check said of the value is cleaned here.

/** `message` with every occurrence of `secret` (and of the passwords of URLs in it) taken out. */
export function withoutSecret(message: string, secret: string): string {
  if (secret === '') return message;
  let cleaned = message.split(secret).join('(not shown)');
  for (const match of secret.matchAll(/\/\/[^@/,:]*:([^@/,]+)@/g)) cleaned = cleaned.split(match[1]!).join('[redacted]');
  return cleaned;
}
