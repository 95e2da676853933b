export * from './ephemeral-runners';
export * from './runner-config';
export * from './runner-machine-image';
export * from './state-table';
export * from './webhook';
export * from './control-plane-function';
export * from './runner-image-pipeline';
export * from './monitoring';
