/** A subgraph a member could propose: tax's invoices, on the Enterprise entity, with its catalog entry. */
export const HEADER = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])
  @link(url: "https://exchange.gd.gov.cn/sharing/v1.0", import: ["@dataset"])
  @composeDirective(name: "@dataset")

directive @dataset(id: String!, class: String!, sensitivity: String) on FIELD_DEFINITION

scalar USCC
`;

/** An entity field `field` of dataset `dataset` declared as `cls`, in a subgraph of its own. */
export function entitySdl(field: string, dataset: string, cls = 'CONDITIONAL', sensitivity: string | null = 'COMMERCIAL'): string {
  return `${HEADER}
type Enterprise @key(fields: "uscc") {
  uscc: USCC!
  ${field}(year: Int!): Int @dataset(id: "${dataset}", class: "${cls}"${sensitivity === null ? '' : `, sensitivity: "${sensitivity}"`})
}
`;
}

export const INVOICES_SDL = entitySdl('invoiceCount', 'tax.invoices');

export function catalogEntry(nameEn: string, purposes: readonly string[] = ['market-supervision']): Record<string, unknown> {
  return { name: '发票开具信息', nameEn, description: '企业年度开具发票张数', format: 'GraphQL / JSON', frequency: 'MONTHLY', conditions: '条件共享：经税务部门批准', purposes };
}

export const INVOICES_CATALOG = JSON.stringify({ 'tax.invoices': catalogEntry('Invoices issued') });

export const INVOICES = { subgraph: 'tax-invoices', url: 'http://127.0.0.1:4010/graphql', sdl: INVOICES_SDL, catalog: INVOICES_CATALOG, note: 'invoices for market supervision' };
