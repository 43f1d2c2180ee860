/**
 * @packageDocumentation
 * Test helpers for packages that add ops to the tensor core (`@tessera/tensor-webgpu/testing`):
 * the devices to test on (WebGPU required unless opted out), a relative-error measure, and a
 * finite-difference gradient check.
 */
export { maxRelError, testDevices } from './testing-devices.js';
export { gradCheck, smoothValues } from './testing-gradcheck.js';
