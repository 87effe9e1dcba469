import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from './session.ts';

/** A bilingual label: Chinese first, English after it. */
export function L({ zh, en }: { zh: string; en: string }) {
  return (
    <>
      <span className="zh">{zh}</span> <span className="en">{en}</span>
    </>
  );
}

export function Errors({ errors }: { errors: readonly GraphQLError[] }) {
  if (errors.length === 0) return null;
  return (
    <div className="errors" role="alert">
      {errors.map((e, i) => (
        <div key={i} className="error">
          <strong>{e.extensions?.code ?? 'ERROR'}</strong> {e.message}
          {e.extensions?.sharing?.remedy !== undefined && (
            <div className="remedy">
              <L zh="补救办法" en="Remedy" />: {e.extensions.sharing.remedy}
            </div>
          )}
        </div>
      ))}
    </div>
  );
}

/** Runs a query when its inputs change; `reload` runs it again (after a mutation). */
export function useQuery<T>(session: Session | null, query: string | null, variables: Record<string, unknown> = {}, purpose = '') {
  const [state, setState] = useState<{ data: T | null; errors: readonly GraphQLError[]; loading: boolean }>({ data: null, errors: [], loading: query !== null });
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (query === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    gql<T>(session, query, JSON.parse(key) as Record<string, unknown>, purpose).then(
      (r) => live && setState({ data: r.data, errors: r.errors, loading: false }),
      (e: unknown) => live && setState({ data: null, errors: [{ message: String(e) }], loading: false }),
    );
    return () => {
      live = false;
    };
  }, [session, query, key, purpose, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Section({ id, zh, en, children }: { id: string; zh: string; en: string; children: ReactNode }) {
  return (
    <section id={id} aria-labelledby={`${id}-title`} className="card">
      <h2 id={`${id}-title`}>
        <L zh={zh} en={en} />
      </h2>
      {children}
    </section>
  );
}

/** A table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export function Table({ head, rows, caption }: { head: readonly ReactNode[]; rows: readonly (readonly ReactNode[])[]; caption?: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={typeof caption === 'string' ? caption : 'table'}>
      <table>
        {caption !== undefined && <caption>{caption}</caption>}
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={head.length} className="empty">
                <L zh="无" en="None" />
              </td>
            </tr>
          ) : (
            rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

export function agencyName(config: PageConfig, code: string | null | undefined): string {
  if (code === null || code === undefined) return '—';
  const a = config.agencies[code];
  return a === undefined ? code : `${code} ${a.name}`;
}

export function purposeName(config: PageConfig, code: string): string {
  const p = config.purposes[code];
  return p === undefined ? code : `${code}（${p.name} ${p.nameEn}）`;
}

export function day(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? '—' : iso.slice(0, 10);
}

export function time(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? '—' : iso.replace('T', ' ').slice(0, 19);
}

/** A purpose picker from the catalog's purpose codes. */
export function PurposeSelect({ config, value, onChange, id, optional = true }: { config: PageConfig; value: string; onChange: (v: string) => void; id: string; optional?: boolean }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      {optional && <option value="">（无用途 no purpose）</option>}
      {Object.entries(config.purposes).map(([code, p]) => (
        <option key={code} value={code}>
          {code} · {p.name} {p.nameEn}
        </option>
      ))}
    </select>
  );
}

/** Horizontal bars, allowed and denied side by side; plain SVG, no chart library. */
export function BarChart({ title, rows }: { title: string; rows: readonly { label: string; allowed: number; denied: number }[] }) {
  const max = Math.max(1, ...rows.map((r) => r.allowed + r.denied));
  const barH = 18;
  const gap = 8;
  const labelW = 190;
  const width = 560;
  const height = Math.max(1, rows.length) * (barH + gap) + 24;
  const scale = (n: number) => ((width - labelW - 60) * n) / max;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p className="empty">
          <L zh="期间无读取记录" en="No reads in this period" />
        </p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
          {rows.map((r, i) => {
            const y = i * (barH + gap);
            return (
              <g key={r.label} transform={`translate(0 ${y})`}>
                <text x={labelW - 6} y={barH - 5} textAnchor="end" className="chart-label">
                  {r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label}
                </text>
                <rect x={labelW} y={0} width={scale(r.allowed)} height={barH} className="bar-allowed">
                  <title>{`${r.label}: ${r.allowed} allowed`}</title>
                </rect>
                <rect x={labelW + scale(r.allowed)} y={0} width={scale(r.denied)} height={barH} className="bar-denied">
                  <title>{`${r.label}: ${r.denied} denied`}</title>
                </rect>
                <text x={labelW + scale(r.allowed + r.denied) + 6} y={barH - 5} className="chart-value">
                  {r.allowed} / {r.denied}
                </text>
              </g>
            );
          })}
          <g transform={`translate(${labelW} ${height - 10})`} className="legend">
            <rect width={10} height={10} y={-9} className="bar-allowed" />
            <text x={14}>允许 allowed</text>
            <rect x={120} width={10} height={10} y={-9} className="bar-denied" />
            <text x={134}>拒绝 denied</text>
          </g>
        </svg>
      )}
    </figure>
  );
}
