// Typed reads of item attributes: a malformed item fails loudly with the item and attribute named.
import { StateItemError } from './errors';

export type Item = Record<string, unknown>;

export function str(item: Item, attribute: string, where: string): string {
  const value = item[attribute];
  if (typeof value !== 'string') throw new StateItemError(`${where}: ${attribute} is not a string`);
  return value;
}

export function optStr(item: Item, attribute: string, where: string): string | undefined {
  return item[attribute] === undefined ? undefined : str(item, attribute, where);
}

export function num(item: Item, attribute: string, where: string): number {
  const value = item[attribute];
  if (typeof value !== 'number') throw new StateItemError(`${where}: ${attribute} is not a number`);
  return value;
}

export function optNum(item: Item, attribute: string, where: string): number | undefined {
  return item[attribute] === undefined ? undefined : num(item, attribute, where);
}

export function compact<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
