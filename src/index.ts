export * from './ephemeral-runners';
export * from './runner-config';
export * from './state-table';
export * from './webhook';
export * from './control-plane-function';
