import type { LocationContent, MediaSource } from "./content.js";
import { LIMITS } from "./limits.js";
import type { Violations } from "./violations.js";

/** `prefix` is where the source's fields sit: `media` (link/media_id inline) or `interactive.header.image`. */
export function validateMediaSource(v: Violations, prefix: string, source: MediaSource): void {
  if (source.kind === "link") v.httpUrl(`${prefix}.link`, source.link, LIMITS.mediaLink);
  else v.text(`${prefix}.media_id`, source.id, LIMITS.mediaId, true);
}

export function validateLocation(v: Violations, prefix: string, location: Pick<LocationContent, "latitude" | "longitude" | "name" | "address">): void {
  if (!Number.isFinite(location.latitude) || Math.abs(location.latitude) > 90) v.add(`${prefix}.latitude`, "must be between -90 and 90");
  if (!Number.isFinite(location.longitude) || Math.abs(location.longitude) > 180) v.add(`${prefix}.longitude`, "must be between -180 and 180");
  v.text(`${prefix}.name`, location.name, LIMITS.locationText);
  v.text(`${prefix}.address`, location.address, LIMITS.locationText);
}

