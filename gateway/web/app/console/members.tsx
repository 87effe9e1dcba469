import { useState } from 'react';
import type { PageConfig, Session } from '../session.ts';
import { ActionForm, Errors, field, L, Section, Table, time, useNotice, useQuery, type Action } from '../ui.tsx';
import { isCoordinator } from './access.ts';

/**
 * The members of the exchange (administrative bodies, organisations authorised by law, peer
 * centres): every member reads the list; the authority's coordinators register, change, suspend,
 * reinstate and retire them, each step in writing on the ledger.
 */

export interface Member {
  code: string;
  fullId: string;
  division: string;
  name: string;
  nameEn: string;
  kind: string;
  responsiblePerson: string;
  contact: string;
  status: string;
  registeredAt: string;
  history: { seq: number; type: string; at: string; by: string | null; reasons: string | null }[];
}

export const MEMBER_FIELDS = 'code fullId division name nameEn kind responsiblePerson contact status registeredAt history { seq type at by reasons }';

export const KINDS = [
  { value: 'ADMINISTRATIVE_BODY', zh: '行政机关', en: 'administrative body' },
  { value: 'AUTHORISED_ORGANISATION', zh: '法律法规授权的组织', en: 'organisation authorised by law' },
  { value: 'CENTRE', zh: '共享交换中心', en: 'exchange centre' },
] as const;

export const STATUSES = [
  { value: 'ACTIVE', zh: '正常', en: 'active' },
  { value: 'SUSPENDED', zh: '已暂停', en: 'suspended' },
  { value: 'RETIRED', zh: '已注销', en: 'retired' },
] as const;

const label = (list: readonly { value: string; zh: string; en: string }[], v: string): string => {
  const e = list.find((x) => x.value === v);
  return e === undefined ? v : `${e.zh} ${e.en}`;
};
export const kindLabel = (k: string): string => label(KINDS, k);
export const statusLabel = (s: string): string => label(STATUSES, s);

const STEP_ZH: Record<string, string> = {
  'member.registered': '登记',
  'member.changed': '变更',
  'member.suspended': '暂停',
  'member.reinstated': '恢复',
  'member.retired': '注销',
};

export function MembersPage({ session }: { session: Session; config: PageConfig }) {
  const [status, setStatus] = useState('');
  const members = useQuery<{ members: Member[] }>(session, `query Members($status: MemberStatus) { members(status: $status) { ${MEMBER_FIELDS} } }`, status === '' ? {} : { status });
  const coordinator = isCoordinator(session);
  // The change and step forms list every member not retired (a retired one takes no further step), whatever the filter shows.
  const all = useQuery<{ members: Member[] }>(session, coordinator ? `query AllMembers { members { ${MEMBER_FIELDS} } }` : null);
  const { notice, show } = useNotice();
  const done = (text: string) => {
    members.reload();
    all.reload();
    show(text);
  };
  const list = members.data?.members ?? [];
  return (
    <>
      {notice}
      <Section id="members" zh="成员名录" en="Members">
        <div className="row">
          <label htmlFor="member-status"><L zh="状态" en="Status" /></label>
          <select id="member-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">全部 all</option>
            {STATUSES.map((s) => <option key={s.value} value={s.value}>{s.zh} {s.value}</option>)}
          </select>
        </div>
        <Errors errors={members.errors} />
        <Table
          caption={members.data === null ? undefined : `${list.length} 个成员 members`}
          head={[
            <L key="c" zh="代码 / 完整标识" en="Code / full id" />,
            <L key="n" zh="名称" en="Name" />,
            <L key="d" zh="行政区划" en="Division" />,
            <L key="k" zh="类型" en="Kind" />,
            <L key="r" zh="负责人 / 联系方式" en="Responsible person / contact" />,
            <L key="s" zh="状态" en="Status" />,
            <L key="h" zh="记录" en="History" />,
          ]}
          rows={list.map((m) => [
            <span key="c" className="nowrap">
              <code className="member-code">{m.code}</code>
              <br />
              <code>{m.fullId}</code>
            </span>,
            <span key="n" className="wide" lang="zh-CN">{m.name}<br /><span className="en" lang="en">{m.nameEn}</span></span>,
            m.division,
            <Kind key="k" kind={m.kind} />,
            <span key="r">{m.responsiblePerson}<br /><span className="meta">{m.contact}</span></span>,
            <span key="s" className={`status status-${m.status.toLowerCase()}`} data-status={m.status}>{statusLabel(m.status)}</span>,
            <History key="h" member={m} />,
          ])}
        />
      </Section>
      {coordinator && (
        <>
          <Section id="register-member" zh="登记成员" en="Register a member">
            <RegisterMember session={session} onDone={done} />
          </Section>
          <Section id="change-member" zh="变更成员信息" en="Change a member">
            <Errors errors={all.errors} />
            <ChangeMember session={session} members={all.data?.members ?? []} onDone={done} />
          </Section>
          <Section id="member-steps" zh="暂停、恢复或注销成员" en="Suspend, reinstate or retire a member">
            <MemberSteps session={session} members={all.data?.members ?? []} onDone={done} />
          </Section>
        </>
      )}
    </>
  );
}

function Kind({ kind }: { kind: string }) {
  const k = KINDS.find((x) => x.value === kind);
  return k === undefined ? <>{kind}</> : <span>{k.zh}<br /><span className="en">{k.en}</span></span>;
}

function History({ member: m }: { member: Member }) {
  return (
    <details className="history wide">
      <summary>{m.history.length} <L zh="条" en="steps" /></summary>
      <ol>
        {m.history.map((h) => (
          <li key={h.seq}>
            {time(h.at)} · {STEP_ZH[h.type] ?? ''} <code>{h.type}</code>
            {h.by !== null && <> · {h.by}</>}
            {h.reasons !== null && h.reasons !== '' && <div className="meta">{h.reasons}</div>}
          </li>
        ))}
      </ol>
    </details>
  );
}

/** The fields of MemberInput, read from a form; a string names what is missing. */
function memberInput(f: FormData): { input: Record<string, string> } | string {
  const names = [
    ['code', '代码', 'code'],
    ['division', '行政区划代码', 'division code'],
    ['name', '中文名称', 'Chinese name'],
    ['nameEn', '英文名称', 'English name'],
    ['kind', '类型', 'kind'],
    ['responsiblePerson', '负责人', 'responsible person'],
    ['contact', '联系方式', 'contact'],
  ] as const;
  const input: Record<string, string> = {};
  for (const [name, zh, en] of names) {
    const v = field(f, name);
    if (v === '') return `请填写${zh} · Write the ${en}.`;
    input[name] = v;
  }
  return { input };
}

function MemberFields({ prefix, member, codeFixed }: { prefix: string; member?: Member; codeFixed?: boolean }) {
  const id = (n: string) => `${prefix}-${n}`;
  return (
    <div className="fields">
      <label htmlFor={id('code')}><L zh="代码" en="Code" /></label>
      <input id={id('code')} name="code" defaultValue={member?.code ?? ''} readOnly={codeFixed === true} autoComplete="off" spellCheck={false} />
      <label htmlFor={id('division')}><L zh="行政区划代码" en="Division code" /></label>
      <input id={id('division')} name="division" defaultValue={member?.division ?? ''} inputMode="numeric" autoComplete="off" />
      <label htmlFor={id('name')}><L zh="中文名称" en="Chinese name" /></label>
      <input id={id('name')} name="name" defaultValue={member?.name ?? ''} lang="zh-CN" />
      <label htmlFor={id('nameEn')}><L zh="英文名称" en="English name" /></label>
      <input id={id('nameEn')} name="nameEn" defaultValue={member?.nameEn ?? ''} lang="en" />
      <label htmlFor={id('kind')}><L zh="类型" en="Kind" /></label>
      <select id={id('kind')} name="kind" defaultValue={member?.kind ?? 'ADMINISTRATIVE_BODY'}>
        {KINDS.map((k) => <option key={k.value} value={k.value}>{k.zh} {k.en}</option>)}
      </select>
      <label htmlFor={id('responsiblePerson')}><L zh="负责人" en="Responsible person" /></label>
      <input id={id('responsiblePerson')} name="responsiblePerson" defaultValue={member?.responsiblePerson ?? ''} />
      <label htmlFor={id('contact')}><L zh="联系方式" en="Contact" /></label>
      <input id={id('contact')} name="contact" defaultValue={member?.contact ?? ''} />
    </div>
  );
}

function RegisterMember({ session, onDone }: { session: Session; onDone: (t: string) => void }) {
  const action: Action = {
    zh: '登记',
    en: 'Register',
    mutation: `mutation RegisterMember($input: MemberInput!) { registerMember(input: $input) { code status } }`,
    vars: (f) => memberInput(f),
  };
  return (
    <ActionForm session={session} label="register a member" actions={[action]} onDone={onDone}>
      <MemberFields prefix="register" />
    </ActionForm>
  );
}

function ChangeMember({ session, members, onDone }: { session: Session; members: readonly Member[]; onDone: (t: string) => void }) {
  const [code, setCode] = useState('');
  // A member retired meanwhile leaves the list, and its form with it.
  const member = members.find((m) => m.code === code && m.status !== 'RETIRED');
  const action: Action = {
    zh: '保存变更',
    en: 'Save the change',
    mutation: `mutation ChangeMember($input: MemberInput!) { changeMember(input: $input) { code status } }`,
    vars: (f) => memberInput(f),
  };
  return (
    <>
      <div className="row">
        <label htmlFor="change-which"><L zh="成员" en="Member" /></label>
        <select id="change-which" value={member?.code ?? ''} onChange={(e) => setCode(e.target.value)}>
          <option value="">（选择 choose）</option>
          {members.filter((m) => m.status !== 'RETIRED').map((m) => <option key={m.code} value={m.code}>{m.code} · {m.name}</option>)}
        </select>
      </div>
      {member !== undefined && (
        // Keyed by the member, so choosing another one fills the fields afresh.
        <ActionForm key={member.code} session={session} label={`change ${member.code}`} actions={[action]} onDone={onDone}>
          <MemberFields prefix="change" member={member} codeFixed />
        </ActionForm>
      )}
    </>
  );
}

function MemberSteps({ session, members, onDone }: { session: Session; members: readonly Member[]; onDone: (t: string) => void }) {
  const step = (verb: 'suspendMember' | 'reinstateMember' | 'retireMember', zh: string, en: string, confirm?: Action['confirm']): Action => ({
    zh,
    en,
    mutation: `mutation Step($code: String!, $reasons: String!) { ${verb}(code: $code, reasons: $reasons) { code status } }`,
    vars: (f) => {
      const code = field(f, 'code');
      if (code === '') return '请选择成员 · Choose the member.';
      const reasons = field(f, 'reasons');
      if (reasons === '') return `请填写${zh}理由 · Write the reasons for this step (${en.toLowerCase()}).`;
      return { code, reasons };
    },
    ...(confirm === undefined ? {} : { confirm, danger: true }),
  });
  return (
    <ActionForm
      session={session}
      label="suspend, reinstate or retire a member"
      onDone={onDone}
      actions={[
        step('suspendMember', '暂停', 'Suspend', { zh: '暂停期间该成员的令牌一律被拒绝。', en: 'While suspended, every token of the member is refused.' }),
        step('reinstateMember', '恢复', 'Reinstate'),
        step('retireMember', '注销', 'Retire', { zh: '注销不可撤回：该成员的令牌将永久被拒绝。', en: 'Retiring cannot be undone: the member\u2019s tokens are refused from now on.' }),
      ]}
    >
      <label htmlFor="step-code"><L zh="成员" en="Member" /></label>
      <select id="step-code" name="code" defaultValue="">
        <option value="">（选择 choose）</option>
        {members.filter((m) => m.status !== 'RETIRED').map((m) => <option key={m.code} value={m.code}>{m.code} · {m.name} · {statusLabel(m.status)}</option>)}
      </select>
      <label htmlFor="step-reasons"><L zh="理由（必填）" en="Reasons (required)" /></label>
      <textarea id="step-reasons" name="reasons" rows={2} />
    </ActionForm>
  );
}
