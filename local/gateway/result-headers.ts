/** Response headers as a handler states them: in a buffered result, or in a streaming prelude. */

/** headers / multiValueHeaders / cookies of a structured result or a streaming prelude. */
export function collectHeaders(source: Record<string, unknown>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const single = source.headers;
  if (typeof single === 'object' && single !== null) {
    for (const [name, value] of Object.entries(single)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
  }
  const multi = source.multiValueHeaders;
  if (typeof multi === 'object' && multi !== null) {
    for (const [name, values] of Object.entries(multi)) {
      if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String);
    }
  }
  const cookies = source.cookies;
  if (Array.isArray(cookies) && cookies.length > 0) {
    const existing = headers['set-cookie'];
    const prior = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    headers['set-cookie'] = [...prior, ...cookies.map(String)];
  }
  return headers;
}
