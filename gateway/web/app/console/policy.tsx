import { useState } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from '../session.ts';
import { Errors, L, PurposeSelect, Section } from '../ui.tsx';

interface Explanation {
  decision: string;
  reason: string;
  remedy: string | null;
  lines: string[];
}

export function PolicyPage({ session, config }: { session: Session; config: PageConfig }) {
  const [agency, setAgency] = useState('amr');
  const [roles, setRoles] = useState<string[]>([]);
  const [purpose, setPurpose] = useState('market-supervision');
  const [coordinate, setCoordinate] = useState('Enterprise.taxCreditGrade');
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const [result, setResult] = useState<Explanation | null>(null);
  return (
    <Section id="explain" zh="解释一项共享决定" en="Explain a sharing decision">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void gql<{ explainDecision: Explanation }>(
            session,
            'query Explain($agency: String!, $coordinate: String!, $purpose: String, $roles: [String!]) { explainDecision(agency: $agency, coordinate: $coordinate, purpose: $purpose, roles: $roles) { decision reason remedy lines } }',
            { agency, coordinate, purpose: purpose === '' ? null : purpose, roles },
          ).then((r) => {
            setErrors(r.errors);
            setResult(r.data?.explainDecision ?? null);
          });
        }}
      >
        <label htmlFor="explain-agency"><L zh="机构" en="Agency" /></label>
        <select id="explain-agency" value={agency} onChange={(e) => setAgency(e.target.value)}>
          {Object.entries(config.agencies).map(([code, a]) => <option key={code} value={code}>{code} · {a.name} {a.nameEn}</option>)}
        </select>
        <fieldset>
          <legend><L zh="角色" en="Roles" /></legend>
          {config.roles.map((r) => (
            <label key={r} className="check">
              <input type="checkbox" checked={roles.includes(r)} onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} /> {r}
            </label>
          ))}
        </fieldset>
        <label htmlFor="explain-purpose"><L zh="用途" en="Purpose" /></label>
        <PurposeSelect id="explain-purpose" config={config} value={purpose} onChange={setPurpose} />
        <label htmlFor="explain-coordinate"><L zh="字段（类型.字段）" en="Field (Type.field)" /></label>
        <input id="explain-coordinate" value={coordinate} onChange={(e) => setCoordinate(e.target.value)} />
        <button type="submit"><L zh="解释" en="Explain" /></button>
      </form>
      <Errors errors={errors} />
      {result !== null && (
        <div role="status" data-testid="explanation">
          <p className={result.decision === 'ALLOW' ? 'ok' : 'error'}>
            {result.decision === 'ALLOW' ? '允许 ALLOW' : '拒绝 DENY'} · {result.reason}
          </p>
          {result.remedy !== null && <p><L zh="补救办法" en="Remedy" />: {result.remedy}</p>}
          <h3><L zh="作出决定的策略行" en="The lines that decided" /></h3>
          <pre className="lines">{result.lines.join('\n')}</pre>
        </div>
      )}
    </Section>
  );
}
