// A reason catalog is `{ Reason: 'what it means and what to do' }`, kept next to the code that raises its
// reasons. src/reasons/index.ts collects the catalogs into the `Reason` type and docs/conditions.md.
export type ReasonCatalog = Readonly<Record<string, string>>;

export type ReasonNames<C extends ReasonCatalog> = { readonly [K in keyof C]: K };

/** `{ Reason: meaning }` -> `{ Reason: 'Reason' }`, so code writes `Reasons.UploadFailed` and a typo does not compile. */
export function reasonNames<const C extends ReasonCatalog>(catalog: C): ReasonNames<C> {
  return Object.fromEntries(Object.keys(catalog).map((reason) => [reason, reason])) as ReasonNames<C>;
}
