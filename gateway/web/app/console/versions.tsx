import { useState } from 'react';
import type { PageConfig, Session } from '../session.ts';
import { ActionForm, agencyName, Errors, field, L, Section, Table, time, useNotice, useQuery } from '../ui.tsx';
import { isCoordinator } from './access.ts';

/**
 * The published supergraph versions, newest first, each with what changed against the one
 * before; the authority's coordinators republish an earlier one (a rollback), in writing.
 */

interface Version {
  version: number;
  hash: string;
  proposal: string | null;
  rollbackOf: number | null;
  publishedAt: string;
  publishedBy: string | null;
  reasons: string;
  current: boolean;
  subgraphs: { name: string; member: string; url: string }[];
  changes: { coordinate: string; change: string; before: string | null; after: string | null }[];
}

const VERSION_FIELDS = 'version hash proposal rollbackOf publishedAt publishedBy reasons current subgraphs { name member url } changes { coordinate change before after }';

export function VersionsPage({ session, config }: { session: Session; config: PageConfig }) {
  const versions = useQuery<{ supergraphVersions: Version[] }>(session, `query Versions { supergraphVersions { ${VERSION_FIELDS} } }`);
  const { notice, show } = useNotice();
  const done = (text: string) => {
    versions.reload();
    show(text);
  };
  const list = [...(versions.data?.supergraphVersions ?? [])].sort((a, b) => b.version - a.version);
  const current = list.find((v) => v.current);
  return (
    <>
      {notice}
      <Section id="versions" zh="超图版本" en="Supergraph versions">
        <Errors errors={versions.errors} />
        {current !== undefined && (
          <p data-testid="current-version">
            <L zh="当前版本" en="Current version" />: <strong>{current.version}</strong> · <code>{current.hash.slice(0, 16)}</code>
          </p>
        )}
        <Table
          head={[
            <L key="v" zh="版本" en="Version" />,
            <L key="h" zh="哈希" en="Hash" />,
            <L key="p" zh="来源" en="From" />,
            <L key="w" zh="发布人 / 时间" en="Published by / at" />,
            <L key="r" zh="理由" en="Reasons" />,
            <L key="c" zh="变更" en="Changes" />,
          ]}
          rows={list.map((v) => [
            <span key="v" data-version={v.version}>
              <strong>{v.version}</strong>
              {v.current && <> <span className="badge">当前 current</span></>}
            </span>,
            <code key="h" className="nowrap" title={v.hash}>{v.hash.slice(0, 12)}</code>,
            v.rollbackOf !== null ? <L key="p" zh={`回退至版本 ${v.rollbackOf}`} en={`rollback to version ${v.rollbackOf}`} /> : v.proposal !== null ? <code key="p">{v.proposal}</code> : <L key="p" zh="初始组合" en="the reference composition" />,
            <span key="w">{v.publishedBy ?? '—'}<br /><span className="meta">{time(v.publishedAt)}</span></span>,
            v.reasons,
            <Changes key="c" v={v} config={config} />,
          ])}
        />
      </Section>
      {isCoordinator(session) && (
        <Section id="rollback" zh="回退到较早版本" en="Roll back to an earlier version">
          <Rollback session={session} versions={list} onDone={done} />
        </Section>
      )}
    </>
  );
}

function Changes({ v, config }: { v: Version; config: PageConfig }) {
  return (
    <details className="changes" data-changes={v.version}>
      <summary>
        {v.changes.length} <L zh="项变更" en="changes" /> · {v.subgraphs.length} <L zh="个子图" en="subgraphs" />
      </summary>
      {v.changes.length === 0 ? (
        <p className="empty"><L zh="与上一版本相同" en="Same schema as the version before" /></p>
      ) : (
        <ul className="diff">
          {v.changes.map((c, i) => (
            <li key={i} className={`diff-${c.change.toLowerCase()}`}>
              <span className="sign">{c.change === 'ADDED' ? '+' : c.change === 'REMOVED' ? '−' : '~'}</span> <code>{c.coordinate}</code> <span className="meta">{c.change}</span>
              {c.before !== null && c.after !== null && <span className="meta"> {c.before} → {c.after}</span>}
              {c.before === null && c.after !== null && <span className="meta"> {c.after}</span>}
              {c.before !== null && c.after === null && <span className="meta"> <del>{c.before}</del></span>}
            </li>
          ))}
        </ul>
      )}
      <p className="meta">
        {v.subgraphs.map((s) => `${s.name}（${agencyName(config, s.member)}）`).join('；')}
      </p>
    </details>
  );
}

function Rollback({ session, versions, onDone }: { session: Session; versions: readonly Version[]; onDone: (t: string) => void }) {
  const current = versions.find((v) => v.current);
  const earlier = versions.filter((v) => !v.current);
  const [chosen, setChosen] = useState('');
  return (
    <ActionForm
      session={session}
      label="roll back the supergraph"
      onDone={(t) => {
        setChosen('');
        onDone(t);
      }}
      actions={[
        {
          zh: '回退',
          en: 'Roll back',
          mutation: 'mutation Rollback($version: Int!, $reasons: String!) { rollbackSupergraph(version: $version, reasons: $reasons) { version } }',
          vars: (f) => {
            const version = Number(field(f, 'version'));
            if (!Number.isInteger(version) || version < 1) return '请选择要恢复的版本 · Choose the version to restore.';
            if (field(f, 'reasons') === '') return '请填写回退理由 · Write the reasons for the rollback.';
            return { version, reasons: field(f, 'reasons') };
          },
          confirm: {
            zh: `将以版本 ${chosen || '…'} 的内容发布一个新版本，所有网关随即使用；${current === undefined ? '' : `版本 ${current.version} 之后的变更随之撤下。`}`,
            en: `Publishes a new version with the content of version ${chosen || '…'}, which every gateway then serves${current === undefined ? '' : `; the changes since then, up to version ${current.version}, are withdrawn`}.`,
          },
          danger: true,
        },
      ]}
    >
      <label htmlFor="rollback-version"><L zh="恢复的版本" en="Version to restore" /></label>
      <select id="rollback-version" name="version" value={chosen} onChange={(e) => setChosen(e.target.value)}>
        <option value="">（选择 choose）</option>
        {earlier.map((v) => <option key={v.version} value={String(v.version)}>{v.version} · {time(v.publishedAt)} · {v.hash.slice(0, 12)}</option>)}
      </select>
      <label htmlFor="rollback-reasons"><L zh="回退理由（必填）" en="Reasons (required)" /></label>
      <textarea id="rollback-reasons" name="reasons" rows={2} />
    </ActionForm>
  );
}
