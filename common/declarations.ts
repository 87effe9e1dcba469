import { Kind, parse, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import agencies from '../schema/agencies.json' with { type: 'json' };

/**
 * The `@dataset` directive every subgraph declares its fields with, and the rules composition
 * holds the declarations to. Lives with the subgraphs because they write it; the gateway and the
 * authority's catalog read it back from the supergraph.
 */
export type SharingClass = 'UNCONDITIONAL' | 'CONDITIONAL' | 'NOT_SHARED';
export const SHARING_CLASSES: readonly SharingClass[] = ['UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED'];

export type Sensitivity = 'PERSONAL' | 'COMMERCIAL' | 'STATE_SECRET';
export const SENSITIVITIES: readonly Sensitivity[] = ['PERSONAL', 'COMMERCIAL', 'STATE_SECRET'];

/** One `@dataset(...)` application on a field definition. */
export interface Declaration {
  readonly coordinate: string;
  readonly dataset: string;
  readonly class: SharingClass;
  readonly sensitivity: Sensitivity | null;
}

/** Where the declaration was found, for error messages. */
export interface Located extends Declaration {
  readonly source: string;
}

const DATASET_ID = /^([a-z][a-z0-9]*)\.([a-z0-9]+(?:-[a-z0-9]+)*)$/;

function stringArg(d: ConstDirectiveNode, name: string): string | null {
  const arg = d.arguments?.find((a) => a.name.value === name);
  if (arg === undefined) return null;
  return arg.value.kind === Kind.STRING ? arg.value.value : null;
}

/**
 * Reads every `@dataset` on field definitions of a document (a subgraph SDL or the supergraph).
 * Problems with a single declaration are returned as messages, never thrown, so that compose
 * can report all of them at once.
 */
export function readDeclarations(doc: DocumentNode, source: string, directiveName = 'dataset'): { declarations: Located[]; problems: string[] } {
  const declarations: Located[] = [];
  const problems: string[] = [];
  for (const def of doc.definitions) {
    if (
      def.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      def.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      def.kind !== Kind.INTERFACE_TYPE_DEFINITION
    ) continue;
    for (const field of def.fields ?? []) {
      const coordinate = `${def.name.value}.${field.name.value}`;
      for (const d of field.directives ?? []) {
        if (d.name.value !== directiveName) continue;
        const id = stringArg(d, 'id');
        const cls = stringArg(d, 'class');
        const sens = stringArg(d, 'sensitivity');
        const at = `${source}: ${coordinate}`;
        if (id === null || !DATASET_ID.test(id)) {
          problems.push(`${at}: dataset id must look like "<agency>.<name>", got ${JSON.stringify(id)}`);
          continue;
        }
        if (!SHARING_CLASSES.includes(cls as SharingClass)) {
          problems.push(`${at}: class must be one of ${SHARING_CLASSES.join(', ')}, got ${JSON.stringify(cls)}`);
          continue;
        }
        if (sens !== null && !SENSITIVITIES.includes(sens as Sensitivity)) {
          problems.push(`${at}: sensitivity must be one of ${SENSITIVITIES.join(', ')}, got ${JSON.stringify(sens)}`);
          continue;
        }
        declarations.push({ coordinate, dataset: id, class: cls as SharingClass, sensitivity: sens as Sensitivity | null, source });
      }
    }
  }
  return { declarations, problems };
}

export function providerOf(datasetId: string): string {
  return datasetId.slice(0, datasetId.indexOf('.'));
}

/** The subgraph run by the authority may host other providers' datasets (R-16). */
export const HOSTING_SUBGRAPH = 'exchange';

/**
 * R-8, one data one source: each dataset and each field coordinate is declared by one subgraph
 * only, a dataset has one class and sensitivity, and a subgraph declares only its own agency's
 * datasets (or, for the center, datasets it hosts).
 */
export function checkDeclarations(
  subgraphs: readonly { name: string; agency: string; sdl: string }[],
  // The registry's members at run time; the reference agencies when composing the files.
  isMember: (code: string) => boolean = (code) => Object.hasOwn(agencies, code),
): string[] {
  const problems: string[] = [];
  const datasetSource = new Map<string, Located>();
  const coordinateSource = new Map<string, Located>();
  for (const sg of subgraphs) {
    let doc: DocumentNode;
    try {
      doc = parse(sg.sdl);
    } catch (e) {
      problems.push(`${sg.name}: schema does not parse: ${(e as Error).message}`);
      continue;
    }
    const read = readDeclarations(doc, sg.name);
    problems.push(...read.problems);
    for (const d of read.declarations) {
      const provider = providerOf(d.dataset);
      if (!isMember(provider)) {
        problems.push(`${sg.name}: ${d.coordinate}: dataset ${d.dataset} names unknown provider agency "${provider}"`);
      } else if (provider !== sg.agency && sg.name !== HOSTING_SUBGRAPH) {
        problems.push(`${sg.name}: ${d.coordinate}: dataset ${d.dataset} belongs to ${provider}; subgraph ${sg.name} (agency ${sg.agency}) may only declare its own datasets`);
      }
      const first = datasetSource.get(d.dataset);
      if (first === undefined) datasetSource.set(d.dataset, d);
      else if (first.source !== d.source) {
        problems.push(`R-8 one data, one source: dataset ${d.dataset} is claimed by subgraphs ${first.source} (${first.coordinate}) and ${d.source} (${d.coordinate})`);
      } else if (first.class !== d.class || first.sensitivity !== d.sensitivity) {
        problems.push(`${sg.name}: ${d.coordinate}: dataset ${d.dataset} is declared ${d.class}/${d.sensitivity ?? 'none'} here but ${first.class}/${first.sensitivity ?? 'none'} on ${first.coordinate}`);
      }
      const firstCoord = coordinateSource.get(d.coordinate);
      if (firstCoord === undefined) coordinateSource.set(d.coordinate, d);
      else if (firstCoord.source !== d.source) {
        problems.push(`R-8 one data, one source: field ${d.coordinate} is catalogued by subgraphs ${firstCoord.source} and ${d.source}`);
      }
    }
  }
  return problems;
}
