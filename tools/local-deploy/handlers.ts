import * as path from 'node:path';
import type { HandlerSource } from './driver';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { GROUP_RESOURCE_TYPE } from '../../src/voice-connector-group-properties';

// These paths hold both from tools/local-deploy/ and from the command line's bundle, assets/cli/: two
// levels below the package root, whose assets/ holds the bundled handlers.

/** The bundled phone-number binding handler, as the npm package ships it (exists once the project is built). */
export const PHONE_NUMBERS_HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'phone-numbers-handler', 'index.js');

/** The bundled scheduled drift check (exists once the project is built). */
export const DRIFT_CHECK_HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'drift-check-handler', 'index.js');

/** The bundled voice connector group handler (exists once the project is built). */
export const VOICE_CONNECTOR_GROUP_HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'voice-connector-group-handler', 'index.js');

/**
 * Every custom resource type this library renders, with the handler that serves it: pass it as the
 * driver's `handlers`. New resource types (such as `Custom::VoiceConnectorGroup`) are added here.
 */
export const LIBRARY_HANDLERS: Readonly<Record<string, HandlerSource>> = {
  [BINDING_RESOURCE_TYPE]: PHONE_NUMBERS_HANDLER_ASSET,
  [GROUP_RESOURCE_TYPE]: VOICE_CONNECTOR_GROUP_HANDLER_ASSET,
};
