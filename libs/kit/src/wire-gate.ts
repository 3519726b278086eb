import { Injectable, Optional } from '@nestjs/common';
import type { DomainError } from '@cinode/common';
import type { AdmissionGate, ArrivingCall } from '@cinode/grpc';
import { AccessControls } from './access-controls';
import { LoadShedder } from './load-shedder';

/**
 * What the server asks as each call's headers arrive (WireAdmission, installed by
 * startGrpcService): first the address lists, so a refused address is told so (PERMISSION_DENIED
 * ADDRESS_DENIED) even while the service sheds, and counted as such; then the load shedder's
 * overload share (RESOURCE_EXHAUSTED OVERLOADED). Both are given before the request is read. The
 * call pipeline checks the address again (calls the wire took pass) and the deadline; it no longer
 * sheds for overload once this gate is attached.
 */
@Injectable()
export class WireGate implements AdmissionGate {
  constructor(
    private readonly shedder: LoadShedder,
    @Optional() private readonly controls?: AccessControls,
  ) {}

  attachToWire(): void {
    this.shedder.attachToWire();
  }

  wireRefusal(path: string, call: ArrivingCall): DomainError | undefined {
    return (
      this.controls?.wireAddressRefusal({
        getPath: () => path,
        getPeer: () => call.getPeer(),
        getConnectionInfo: () => call.getConnectionInfo(),
      }) ?? this.shedder.wireRefusal(path)
    );
  }
}
