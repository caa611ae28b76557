// The shapes of what the annotator reads and writes; geometry is in image pixels, as in
// annotations/geometry.py (origin top-left, x to the right, y down).

export type Kind = "box" | "polygon" | "mask" | "scribble" | "point";
export type Precision = "exact" | "rough";
export type Verdict = "unlabeled" | "normal" | "defective" | "unsure";

export interface BoxGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PointGeometry {
  x: number;
  y: number;
}
export interface PolygonGeometry {
  points: [number, number][];
}
export interface ScribbleGeometry {
  points: [number, number][];
  width: number;
}
export interface MaskGeometry {
  width: number;
  height: number;
  counts: number[];
}
export type Geometry = BoxGeometry | PointGeometry | PolygonGeometry | ScribbleGeometry | MaskGeometry;

/** A region as the editor holds it: `key` names it on this page only (the server renumbers). */
export interface Region {
  readonly key: number;
  readonly kind: Kind;
  readonly geometry: Geometry;
  readonly precision: Precision;
  readonly defect_type: number | null;
}

/** What is saved: one snapshot of an image's labels. Never mutated; every edit makes a new one. */
export interface LabelState {
  readonly verdict: Verdict;
  readonly regions: readonly Region[];
}

export interface DefectType {
  id: number;
  name: string;
  color: string;
  hotkey: string;
}

/** The page's configuration, from the template's json_script. */
export interface Config {
  imageId: number;
  imageName: string;
  width: number;
  height: number;
  displayUrl: string;
  annotationUrl: string;
  imageUrl: string;
  previousUrl: string | null;
  nextUrl: string | null;
  canEdit: boolean;
  role: string;
  defectTypes: DefectType[];
}

/** The API's annotation (GET/PUT/PATCH /api/v1/images/{id}/annotation/). */
export interface AnnotationOut {
  image: number;
  verdict: Verdict;
  regions: {
    id: number;
    kind: Kind;
    geometry: Geometry;
    precision: Precision;
    defect_type: number | null;
  }[];
  version: number;
  etag: string;
  updated_by: string | null;
  updated_at: string;
}
