export * from './voice-connector-group-phone-numbers';
