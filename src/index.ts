export * from './phone-numbers-handler-options';
export * from './voice-connector-group-phone-numbers';
export * from './voice-connector-group';
