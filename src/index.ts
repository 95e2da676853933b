export * from './ephemeral-runners';
export * from './ephemeral-runners-props';
export * from './endpoint-access';
export * from './monitoring-options';
export * from './runner-config';
export * from './runner-image-pipeline';
export * from './runner-machine-image';
export * from './runner-metrics';
