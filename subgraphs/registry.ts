/** The reference subgraphs: name, the agency that runs it, and its reference port (docs/contract.md, Set-up). */
export interface SubgraphInfo {
  readonly name: string;
  readonly agency: string;
  readonly port: number;
}

export const SUBGRAPHS: readonly SubgraphInfo[] = Object.freeze([
  { name: 'amr', agency: 'amr', port: 4001 },
  { name: 'tax', agency: 'tax', port: 4002 },
  { name: 'hrss', agency: 'hrss', port: 4003 },
  { name: 'eeb', agency: 'eeb', port: 4004 },
  { name: 'psb', agency: 'psb', port: 4005 },
  { name: 'civil', agency: 'civil', port: 4006 },
  // The authority's own subgraph (R-16: the center may host data on a provider's behalf).
  { name: 'exchange', agency: 'itd', port: 4007 },
]);

export function subgraphInfo(name: string): SubgraphInfo | undefined {
  return SUBGRAPHS.find((s) => s.name === name);
}
