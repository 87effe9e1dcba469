import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
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

/**
 * A page-level notice of what the last action did. It takes the focus when it appears, so a
 * keyboard user whose form disappeared with the item it acted on (an approved request, a decided
 * complaint) is not dropped back to the top of the page.
 */
export function useNotice(): { notice: ReactNode; show: (text: string) => void } {
  const [text, setText] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (text !== null) ref.current?.focus();
  }, [text, tick]);
  const show = useCallback((t: string) => {
    setText(t);
    setTick((n) => n + 1);
  }, []);
  const notice = text === null ? null : (
    <p className="ok" role="status" tabIndex={-1} ref={ref} data-testid="notice">
      {text}
    </p>
  );
  return { notice, show };
}

/** One mutation a form can run: its button, its variables from the form, whether to confirm first. */
export interface Action {
  readonly zh: string;
  readonly en: string;
  readonly mutation: string;
  /** The variables, read from the form's fields; a string is a problem to show instead of asking. */
  readonly vars: (form: FormData) => Record<string, unknown> | string;
  /** Asked before a step that cannot be undone; the action runs only on 确认 Confirm. */
  readonly confirm?: { zh: string; en: string };
  readonly danger?: boolean;
}

/**
 * A form of plain fields (the children, with `name`s) and one button per action. Errors come back
 * as the exchange wrote them (code and message, never a stack); a destructive action asks first,
 * with the focus on the confirmation so Enter or Escape answers it.
 */
export function ActionForm({ session, actions, onDone, children, label }: { session: Session; actions: readonly Action[]; onDone: (text: string) => void; children?: ReactNode; label: string }) {
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const [pending, setPending] = useState<{ action: Action; vars: Record<string, unknown> } | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  /** The button to give the focus back to once a cancelled confirmation is gone (and it is enabled again). */
  const returnTo = useRef<number | null>(null);
  useEffect(() => {
    if (pending !== null) confirmRef.current?.focus();
    else if (returnTo.current !== null) {
      formRef.current?.querySelector<HTMLButtonElement>(`button[data-action="${returnTo.current}"]`)?.focus();
      returnTo.current = null;
    }
  }, [pending]);
  const run = (action: Action, vars: Record<string, unknown>) => {
    setPending(null);
    setBusy(true);
    gql(session, action.mutation, vars).then(
      (res) => {
        setBusy(false);
        setErrors(res.errors);
        if (res.errors.length > 0) return;
        formRef.current?.reset();
        onDone(`已完成 Done: ${action.zh} ${action.en}`);
      },
      (e: unknown) => {
        setBusy(false);
        setErrors([{ message: `无法连接交换平台 · The exchange could not be reached (${String(e)})` }]);
      },
    );
  };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const submitter = (e.nativeEvent as SubmitEvent).submitter;
    const action = actions[Number(submitter?.dataset['action'] ?? 0)]!;
    const vars = action.vars(new FormData(e.currentTarget));
    if (typeof vars === 'string') {
      setErrors([{ message: vars }]);
      return;
    }
    setErrors([]);
    if (action.confirm !== undefined) setPending({ action, vars });
    else run(action, vars);
  };
  const cancel = () => {
    returnTo.current = pending === null ? 0 : actions.indexOf(pending.action);
    setPending(null);
  };
  return (
    <form className="action" aria-label={label} onSubmit={submit} ref={formRef}>
      {children}
      <div className="buttons">
        {actions.map((a, i) => (
          <button key={i} type="submit" data-action={i} className={a.danger === true ? 'danger' : undefined} disabled={busy || pending !== null}>
            <L zh={a.zh} en={a.en} />
          </button>
        ))}
      </div>
      {pending !== null && (
        <div className="confirm" role="alertdialog" aria-label="确认 Confirm" onKeyDown={(e) => e.key === 'Escape' && cancel()}>
          <p>
            <L zh={pending.action.confirm!.zh} en={pending.action.confirm!.en} />
          </p>
          <button type="button" ref={confirmRef} className={pending.action.danger === true ? 'danger' : undefined} onClick={() => run(pending.action, pending.vars)}>
            <L zh={`确认${pending.action.zh}`} en={`Confirm: ${pending.action.en}`} />
          </button>{' '}
          <button type="button" className="secondary" onClick={cancel}>
            <L zh="取消" en="Cancel" />
          </button>
        </div>
      )}
      <Errors errors={errors} />
    </form>
  );
}

/** A form field's trimmed text ('' when absent). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
}
