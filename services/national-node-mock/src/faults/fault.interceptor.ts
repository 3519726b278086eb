import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, from, switchMap } from 'rxjs';
import { FaultInjectionService } from './fault-injection.service';

/** Runs the injected faults before a NationalNodeService handler touches any data. */
@Injectable()
export class FaultInterceptor implements NestInterceptor {
  constructor(private readonly faults: FaultInjectionService) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.faults.beforeCall()).pipe(switchMap(() => next.handle()));
  }
}
