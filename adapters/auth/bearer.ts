/** The credential of an `Authorization: Bearer <credential>` header, if it has that shape. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}
