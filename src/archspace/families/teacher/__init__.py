"""The teacher-graph family: a teacher (or a candidate compressed from it) as a list of layer
nodes (``spec``), one table of layer kinds (``table``), and from it the shape walk and cost
(``graph``), the layer sequence (``layers``) and the torch module (``modules``, with weight
inheritance); ``family.TeacherFamily`` ties them together. Only ``modules`` imports torch."""

from archspace.families.teacher.spec import GraphLayer, TeacherGraph

__all__ = ["GraphLayer", "TeacherGraph"]
