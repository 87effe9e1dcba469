import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { purposeProblem } from '../../common/catalogued-purposes.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

describe('catalogued purposes bind requests and grants (R-13, R-24)', () => {
  it('names the purpose the dataset\u2019s catalog entry does not list', () => {
    expect(purposeProblem(['tax.credit-rating'], ['market-supervision'])).toBeNull();
    expect(purposeProblem(['tax.credit-rating'], ['market-supervision', 'tax-collection'])).toBe(
      'purpose "tax-collection" is not catalogued for tax.credit-rating (catalogued: market-supervision, credit-supervision, environmental-enforcement) (R-13, R-24)',
    );
  });

  describe('through the gateway', () => {
    let ex: Exchange;
    beforeAll(async () => {
      ex = await startExchange();
    });
    afterAll(async () => {
      await ex.close();
    });

    it('refuses a sharing request for an uncatalogued purpose with BAD_USER_INPUT naming purposes', async () => {
      const res = await ex.query(
        `mutation { fileSharingRequest(provider: "hrss", datasets: ["hrss.enterprise-insurance"], purposes: ["environmental-enforcement"], legalBasis: "第三条", justification: "需要", validUntil: "2030-12-31") { id } }`,
        { agency: 'eeb' },
      );
      expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'purposes' } });
      expect(res.body.errors?.[0]?.message).toContain('"environmental-enforcement" is not catalogued for hrss.enterprise-insurance');
    });
  });
});
