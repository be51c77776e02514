export * from './driver';
export {
  awaitCompletion, buildContext, buildEvent, CREATE_FAILED_PHYSICAL_ID_MARKER, failedResponse, MAX_ERROR_CAUSE_CHARS, MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_WAITER_INPUT_BYTES, stackIdFor,
} from './events';
export { ControlPlaneServer } from './control-plane';
export type { ControlPlaneCall } from './control-plane';
export type { CustomResourceHandler, CustomResourceResponse, EventInput, InvocationOutcome, RequestType } from './events';
export { canonicalJson, IntrinsicError, resolveValue, stringifyProperties } from './intrinsics';
export type { IntrinsicContext } from './intrinsics';
export type { Order } from './scheduler';
export { readCloudAssembly } from './template';
export { fromStack, synthApp } from './synth';
export type { CfnResource, CfnTemplate, StackTemplate } from './template';

export { DRIFT_CHECK_HANDLER_ASSET, LIBRARY_HANDLERS, PHONE_NUMBERS_HANDLER_ASSET, VOICE_CONNECTOR_GROUP_HANDLER_ASSET } from './handlers';
