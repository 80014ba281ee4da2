// Public surface of src/net.
export { openInterfaceSocket, createInterfaceSocketFd } from './socket.ts';
export type { InterfaceSocketOptions } from './socket.ts';
export { listInterfaces, interfaceInfo, primaryIpv4 } from './interfaces.ts';
export type { InterfaceInfo, InterfaceAddress } from './interfaces.ts';
export { NetError, PERMISSION_HINT } from './errors.ts';
export type { NetErrorCode } from './errors.ts';
