/** An OData string literal: single quotes around, a single quote inside doubled (`O''Brien`). */
export function odataString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A `$search` phrase: double quotes around, a double quote or backslash inside escaped with a backslash. */
export function searchPhrase(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** An OData DateTimeOffset literal in UTC to the second, e.g. `2025-03-01T00:00:00Z` (unquoted in `$filter`). */
export function odataDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
