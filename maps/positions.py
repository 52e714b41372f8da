"""Which points of the 2020 directory to trust.

The directory geocoded some town halls and units onto a namesake far away:
the town hall of Thenon (Dordogne) sits in Paris 16e, Chelles's in the Eure,
Morières-lès-Avignon's in the Aube. A point is *foreign* to its département
when no other commune of that département lies within 10 km of it and none of
the 8 communes nearest to it belongs to it. Every border, island and overseas
unit of the data passes. A few large merged communes on a border (Orée d'Anjou,
Carbay) are foreign by that test alone; their postcode tells them apart: a
misplaced town hall is also far from every commune sharing its postcode.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088
FOREIGN_GAP_KM = 10.0
NEIGHBOURS = 8
# A town hall this far from any other commune of its département, while a unit of the
# commune sits among them, is the wrong one of the two (Rivière-Salée's is in the sea).
ISOLATED_GAP_KM = 25.0
# A town hall this far from the nearest commune sharing its postcode is not in that postcode's area.
POSTCODE_REACH_KM = 20.0


def distances_km(lat: np.ndarray, lon: np.ndarray, latitude: float, longitude: float) -> np.ndarray:
    """Great-circle distances from a point (degrees) to points given in radians."""
    lat0, lon0 = math.radians(latitude), math.radians(longitude)
    h = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(distances_km(np.radians([lat2]), np.radians([lon2]), lat1, lon1)[0])


class CommunePoints:
    """The communes' points, to judge another point against its département."""

    def __init__(self, points: list[tuple[str, str, float, float]]) -> None:
        """``points``: (code INSEE, département, latitude, longitude) of every placed commune."""
        self.codes = np.array([p[0] for p in points])
        self.departments = np.array([p[1] for p in points])
        self.lat = np.radians(np.array([p[2] for p in points], dtype=float))
        self.lon = np.radians(np.array([p[3] for p in points], dtype=float))
        # Each département's communes, so that the common case looks at a few hundred points.
        self.members: dict[str, np.ndarray] = {}
        for department in np.unique(self.departments):
            self.members[str(department)] = np.flatnonzero(self.departments == department)

    def gap_km(self, latitude: float, longitude: float, department: str, own_code: str) -> float | None:
        """Distance to the nearest other commune of the département; None if it has no other."""
        members = self.members.get(department, np.empty(0, dtype=int))
        members = members[self.codes[members] != own_code]
        if not len(members):
            return None
        return float(distances_km(self.lat[members], self.lon[members], latitude, longitude).min())

    def foreign(self, latitude: float, longitude: float, department: str, own_code: str) -> bool:
        gap = self.gap_km(latitude, longitude, department, own_code)
        if gap is None or gap <= FOREIGN_GAP_KM:
            return False
        distances = distances_km(self.lat, self.lon, latitude, longitude)
        nearest = np.argsort(np.where(self.codes != own_code, distances, np.inf))[:NEIGHBOURS]
        return not (self.departments[nearest] == department).any()

    def isolated(self, latitude: float, longitude: float, department: str, own_code: str) -> bool:
        gap = self.gap_km(latitude, longitude, department, own_code)
        return gap is not None and gap > ISOLATED_GAP_KM

    def coherent(self, latitude: float, longitude: float, department: str, own_code: str) -> bool:
        """Within reach of another commune of the département (or the only one there is)."""
        gap = self.gap_km(latitude, longitude, department, own_code)
        return gap is None or gap <= FOREIGN_GAP_KM
