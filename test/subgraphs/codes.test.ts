import { describe, expect, it } from 'vitest';
import { checkIdNumber, checkUscc, idCheckChar, usccCheckChar } from '../../common/codes.ts';

describe('USCC check character (GB 32100-2015)', () => {
  it.each(['91445202MA4W3K7PX2', '91445202315608740C', '914452026981234500', '91350100M000100Y43'])('accepts %s', (code) => {
    expect(checkUscc(code)).toBeNull();
  });
  it('computes the check character from the first 17 characters', () => {
    expect(usccCheckChar('91445202MA4W3K7PX')).toBe('2');
    expect(usccCheckChar('91445202315608740')).toBe('C');
  });
  it.each([
    ['91445202MA4W3K7PX3', 'check character'],
    ['91445202MA4W3K7PX', 'length'],
    ['91445202MA4W3K7PI2', 'characters'],
    ['9144520231560874OC', 'characters'],
  ])('refuses %s: wrong %s', (code, problem) => {
    expect(checkUscc(code)).toBe(problem);
  });
});

describe('ID number check character (GB 11643-1999 MOD 11-2)', () => {
  it('accepts the reference person 445202198503151238', () => {
    expect(checkIdNumber('445202198503151238')).toBeNull();
  });
  it('accepts an X check character', () => {
    const first = '11010519491231002';
    expect(idCheckChar(first)).toBe('X');
    expect(checkIdNumber(`${first}X`)).toBeNull();
  });
  it.each([
    ['445202198503151239', 'check character'],
    ['445202198502301234', 'birth date'],
    ['445202298503151238', 'birth date'],
    ['44520219850315123', 'length'],
    ['44520219850315123A', 'characters'],
  ])('refuses %s: wrong %s', (code, problem) => {
    expect(checkIdNumber(code)).toBe(problem);
  });
});
