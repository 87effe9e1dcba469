import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/root.ts';

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

/** Runs `npm run registry` as its own process, as a member's developer would; asynchronous, so an exchange in the test's process keeps answering. */
export function registry(dataDir: string, args: string[]): Promise<{ status: number | null; stdout: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/registry.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, out: stdout + stderr }));
  });
}
