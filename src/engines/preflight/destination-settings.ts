// The settings check of a destination: the bucket settings the probe read (versioning, Object Lock)
// against the ones the destination requires. Kept out of the probe, whose result is shared by every
// policy on the same bucket, because each policy may require different settings.
import type { DestinationProbeReport } from '../../adapters/s3/probe.ts';
import { OperatorError } from '../../errors.ts';
import { PreflightReasons } from './reasons.ts';

export interface RequiredSettings {
  requireVersioning: boolean;
  requireObjectLock: boolean;
}

/** What of `required` the bucket lacks, one phrase each (empty when it has everything). */
export function missingSettings(report: DestinationProbeReport, required: RequiredSettings): string[] {
  const missing: string[] = [];
  const why = (setting: 'versioning' | 'objectLock'): string => (report.unreadable?.[setting] ? ` (${report.unreadable[setting]})` : '');
  if (required.requireVersioning && report.versioning !== 'Enabled') {
    missing.push(
      report.versioning === 'Unknown'
        ? `versioning is required but could not be read${why('versioning')}; allow s3:GetBucketVersioning`
        : `versioning is required but is ${report.versioning}`,
    );
  }
  if (required.requireObjectLock && report.objectLock !== 'Enabled') {
    missing.push(
      report.objectLock === 'Unknown'
        ? `Object Lock is required but its configuration could not be read${why('objectLock')}; allow s3:GetBucketObjectLockConfiguration`
        : 'Object Lock is required but is not enabled on the bucket',
    );
  }
  return missing;
}

/** Throws DestinationSettingsMismatch naming the destination and every missing setting. */
export function checkDestinationSettings(where: string, report: DestinationProbeReport, required: RequiredSettings): void {
  const missing = missingSettings(report, required);
  if (missing.length > 0) throw new OperatorError(PreflightReasons.DestinationSettingsMismatch, `${where}: ${missing.join('; ')}`);
}
