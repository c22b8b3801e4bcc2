"""The DCAT-AP.de profile of ckanext-dcat (``vernetztestadt_dcat_ap_de``).

It runs after ``euro_dcat_ap_3`` (which includes ``euro_dcat_ap_scheming``)
on the same graph and adds what GovData and Open.NRW need beyond DCAT-AP 3:
the contributor ID, political geocoding, attribution texts, licences, file
and media types from the EU vocabularies, the roles (publisher, contact,
originator, custodian, and the 2.0 ``dcatde:`` roles) and the catalog's
record. Reading a DCAT-AP.de graph, it fills the same CKAN fields back.

Owns: the ``dcatde:``/``geodcatap:`` triples and the fields read from them;
the start-up check of the contributor ID. Must not touch: the triples other
profiles own except where DCAT-AP.de asks for another form (language, format
and media type as URIs), CKAN data (it is given dicts), or the network.

Size: over 400 lines because it is one ckanext-dcat profile class, as ckanext-
dcat's own profiles are: its parse and graph sides must stay symmetric field
by field.
"""
from __future__ import annotations

import weakref
from typing import Any

from ckan.exceptions import CkanConfigurationException
from ckan.plugins import toolkit as tk
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDFS
from rdflib.term import Node

from ckanext.dcat.profiles import DCAT, DCT, FOAF, RDF, SKOS, VCARD
from ckanext.dcat.profiles.base import CleanedURIRef, RDFProfile
from ckanext.dcat.utils import catalog_uri, dataset_uri, resource_uri

from . import series, vocabularies

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
GEODCATAP = Namespace("http://data.europa.eu/930/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
CONTRIBUTOR_OPTION = "ckanext.vernetztestadt.dcat.contributor_id"
V2_ROLES_OPTION = "ckanext.vernetztestadt.dcat.v2_roles"
EU = "http://publications.europa.eu/resource/authority/"
MUSTERDATENKATALOG = "https://musterdatenkatalog.de/"
THEMES = URIRef(EU + "data-theme")
#: the class DCAT-AP 3 wants of a property's values, where ckanext-dcat
#: leaves them untyped (the shapes check classes without inference)
RANGES = ((DCT.license, DCT.LicenseDocument), (DCAT.accessURL, RDFS.Resource),
          (DCAT.downloadURL, RDFS.Resource), (DCAT.endpointURL, RDFS.Resource),
          (DCAT.landingPage, FOAF.Document),
          (FOAF.homepage, FOAF.Document),
          (DCT.accrualPeriodicity, DCT.Frequency), (DCT.language, DCT.LinguisticSystem),
          (DCAT.theme, SKOS.Concept), (DCT.conformsTo, DCT.Standard),
          (DCT.accessRights, DCT.RightsStatement), (DCT.rights, DCT.RightsStatement))
#: the portal's APIs, each a dcat:DataService of the catalog (a new API is
#: one entry here)
SERVICES: tuple[dict[str, Any], ...] = ({
    "path": "/api/3/action",
    "title": {"de": "CKAN-Action-API des Portals", "en": "The portal's CKAN Action API"},
    "description": {
        "de": "Datensätze suchen, lesen und (mit Berechtigung) pflegen: "
              "package_search, package_show, resource_show und weitere Aktionen.",
        "en": "Search, read and (with permission) curate datasets: package_search, "
              "package_show, resource_show and further actions."},
    "documentation": "https://docs.ckan.org/en/latest/api/",
},)
#: dataset fields whose values come from an EU vocabulary (the schema's choices)
CHOSEN = (("theme", DCAT.theme, THEMES),
          ("frequency", DCT.accrualPeriodicity, URIRef(EU + "frequency")))


#: the series already written into a graph (one search per series and export,
#: not one per member of a catalog page)
_SERIES_WRITTEN: weakref.WeakKeyDictionary[Graph, dict[str, series.Series]] = (
    weakref.WeakKeyDictionary())


def _site() -> str:
    return tk.config.get("ckan.site_url").rstrip("/")


def _organization_ref(org: dict[str, Any]) -> URIRef:
    return URIRef(f"{catalog_uri().rstrip('/')}/organization/{org.get('name')}")


def check_configuration() -> None:
    """At start-up: the configured contributor ID must be an official one."""
    value = tk.config.get(CONTRIBUTOR_OPTION)
    if not vocabularies.is_official_contributor(value or ""):
        raise CkanConfigurationException(
            f"{CONTRIBUTOR_OPTION} = {value!r} ist keine Contributor-ID der "
            f"offiziellen DCAT-AP.de-Liste ({vocabularies.CONTRIBUTORS}…) / "
            "is not in the official DCAT-AP.de contributor list")


def contributor_ids(dataset_dict: dict[str, Any]) -> list[str]:
    """The portal's official ID, and the dataset's own where it is not an
    official one; a dataset naming an official ID (imported from another
    contributor) keeps just that one (GovData wants exactly one from the list)."""
    portal = tk.config.get(CONTRIBUTOR_OPTION)
    own = (dataset_dict.get("contributor_id") or "").strip()
    if vocabularies.is_official_contributor(own):
        return [own]  # another contributor's dataset (imported): its own ID
    extra = [own] if own and own != portal and not vocabularies.is_official_contributor(
        own) else []
    return [portal, *extra]


class DCATAPDeProfile(RDFProfile):
    """DCAT-AP.de 3.0 terms on top of ckanext-dcat's DCAT-AP 3 graph."""

    # -- export ----------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        self.g.bind("dcatde", DCATDE)
        self.g.bind("geodcatap", GEODCATAP)
        for uri in contributor_ids(dataset_dict):
            self.g.add((dataset_ref, DCATDE.contributorID, URIRef(uri)))
        self._geocoding(dataset_dict, dataset_ref)
        if dataset_dict.get("musterdatensatz"):
            self.g.add((dataset_ref, DCT.references, URIRef(dataset_dict["musterdatensatz"])))
        publisher = self._publisher(dataset_dict, dataset_ref)
        self._contact(dataset_ref)
        self._roles(dataset_dict, dataset_ref, publisher)
        self._chosen_concepts(dataset_ref)
        self._keywords(dataset_dict, dataset_ref)
        self._series(dataset_dict, dataset_ref, publisher)
        for resource in dataset_dict.get("resources", []):
            self._distribution(dataset_dict, resource, CleanedURIRef(resource_uri(resource)))
        self._geometries(self.g.objects(dataset_ref, DCT.spatial))
        self._identifiers(dataset_ref)
        self._samples(dataset_ref)
        own = {dataset_ref, *self.g.objects(dataset_ref, DCAT.distribution)}
        self._languages(own)
        self._ranges({*own, *self.g.objects(dataset_ref, DCT.publisher),
                      *self.g.objects(dataset_ref, DCT.creator),
                      *self.g.objects(dataset_ref, GEODCATAP.custodian)})

    def _identifiers(self, dataset_ref: Node) -> None:
        """``dct:identifier`` is a text (DCAT-AP 3); ckanext-dcat writes an
        identifier that looks like a URL (an imported dataset's) as a node."""
        for value in list(self.g.objects(dataset_ref, DCT.identifier)):
            if isinstance(value, URIRef):
                self.g.remove((dataset_ref, DCT.identifier, value))
                self.g.add((dataset_ref, DCT.identifier, Literal(str(value))))

    def _samples(self, dataset_ref: Node) -> None:
        """``adms:sample`` is a distribution: a sample kept as its URL (an
        imported dataset's) becomes one with that access URL; any other text
        is dropped."""
        for value in list(self.g.objects(dataset_ref, ADMS.sample)):
            if not isinstance(value, Literal):
                continue
            self.g.remove((dataset_ref, ADMS.sample, value))
            if str(value).startswith(("http://", "https://")):
                sample = BNode()
                self.g.add((dataset_ref, ADMS.sample, sample))
                self.g.add((sample, RDF.type, DCAT.Distribution))
                self.g.add((sample, DCAT.accessURL, URIRef(str(value))))

    def _languages(self, subjects: set[Node]) -> None:
        """Each EU language of the dataset and its distributions as a concept
        of the EU language scheme (the DCAT-AP.de vocabulary check)."""
        for subject in subjects:
            for language in list(self.g.objects(subject, DCT.language)):
                code = str(language).removeprefix(vocabularies.LANGUAGE)
                if isinstance(language, URIRef) and code != str(language):
                    self._concept(str(language), vocabularies.LANGUAGE.rstrip("/"), code)

    def _ranges(self, subjects: set[Node]) -> None:
        """Type the values of ``subjects`` (this dataset's nodes, not the
        whole catalog page's again for each dataset)."""
        for subject in subjects:
            for predicate, class_ in RANGES:
                for value in list(self.g.objects(subject, predicate)):
                    if not isinstance(value, Literal):
                        self.g.add((value, RDF.type, class_))

    def _geometries(self, locations: Any) -> None:
        """A location's geometry as a locn:Geometry node holding the literal
        (DCAT-AP 3 wants a node; ckanext-dcat writes the literal itself)."""
        found = [(place, geometry) for place in set(locations)
                 for geometry in self.g.objects(place, LOCN.geometry)]
        for location, geometry in found:
            if not isinstance(geometry, Literal):
                continue
            node = BNode()
            self.g.remove((location, LOCN.geometry, geometry))
            self.g.add((location, LOCN.geometry, node))
            self.g.add((node, RDF.type, LOCN.Geometry))
            as_geojson = str(geometry.datatype or "").endswith("geoJSONLiteral")
            self.g.add((node, GSP.asGeoJSON if as_geojson else GSP.asWKT, geometry))

    def _geocoding(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        level = dataset_dict.get("political_geocoding_level") or vocabularies.level_uri(
            "municipality")
        uri = vocabularies.geocoding_uri(dataset_dict.get("ags"), level)
        self.g.add((dataset_ref, DCATDE.politicalGeocodingLevelURI, URIRef(level)))
        if vocabularies.is_level(level):
            label = self._choice_labels("political_geocoding_level").get(
                level, level.rsplit("/", 1)[-1])
            self._concept(level, vocabularies.LEVEL.rstrip("/"), label)
        if uri:
            self.g.add((dataset_ref, DCATDE.politicalGeocodingURI, URIRef(uri)))
            self._location(dataset_ref, uri)

    def _location(self, subject: Node, uri: str) -> None:
        self.g.add((subject, DCT.spatial, URIRef(uri)))
        self.g.add((URIRef(uri), RDF.type, DCT.Location))

    def _choice_labels(self, field_name: str) -> dict[str, Any]:
        """value -> label (a language dict or a text) of a schema field's choices."""
        field = self._schema_field(field_name) or {}
        return {choice["value"]: choice.get("label") or choice["value"]
                for choice in field.get("choices", [])}

    def _concept(self, uri: str, scheme: str, labels: dict[str, str] | str) -> None:
        """State a value's vocabulary and label, so that validators (GovData's
        too) find them in the graph; only for values known to be in it."""
        concept = URIRef(uri)
        self.g.add((concept, RDF.type, SKOS.Concept))
        self.g.add((concept, SKOS.inScheme, URIRef(scheme)))
        if isinstance(labels, str):
            labels = {"": labels}
        for lang, label in labels.items():
            self.g.add((concept, SKOS.prefLabel, Literal(label, lang=lang or None)))

    def _chosen_concepts(self, dataset_ref: Node) -> None:
        for key, predicate, scheme in CHOSEN:
            labels = self._choice_labels(key)
            for value in self.g.objects(dataset_ref, predicate):
                if str(value) in labels:
                    self._concept(str(value), str(scheme), labels[str(value)])

    def _keywords(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        """GovData wants a keyword on every dataset: one without tags gets its
        type's (``vernetztestadt_keywords`` in the schema) and the city's."""
        if (dataset_ref, DCAT.keyword, None) in self.g:
            return
        from ckanext.scheming.helpers import scheming_get_dataset_schema

        schema = scheming_get_dataset_schema(dataset_dict.get("type") or "dataset") or {}
        for keyword in [*schema.get("vernetztestadt_keywords", []),
                        tk.config.get("ckanext.vernetztestadt.city_name")]:
            self.g.add((dataset_ref, DCAT.keyword, Literal(keyword, lang=self._default_lang)))

    def _series(self, dataset_dict: dict[str, Any], dataset_ref: Node,
                publisher: Node | None) -> None:
        """dcat:inSeries, the neighbours (dcat:prev/next) and the series itself
        (title, description, publisher, first/last), as ``series`` finds them
        for the caller."""
        identity = series.identity(dataset_dict)
        if identity is None:
            return
        written = _SERIES_WRITTEN.setdefault(self.g, {})
        known = written.get(identity.key)
        found = known or series.build(identity)
        if not found.members:
            return
        ref = URIRef(_site() + found.path)
        self.g.add((dataset_ref, DCAT.inSeries, ref))
        previous, following = found.neighbours(dataset_dict["name"])
        for predicate, member in ((DCAT.prev, previous), (DCAT.next, following)):
            if member is not None:
                self.g.add((dataset_ref, predicate, URIRef(dataset_uri(member))))
        if known is None:
            written[identity.key] = found
            self._series_node(ref, found, publisher)

    def _series_node(self, ref: URIRef, found: series.Series, publisher: Node | None) -> None:
        self.g.add((ref, RDF.type, DCAT.DatasetSeries))
        for lang, title in found.title.items():
            self.g.add((ref, DCT.title, Literal(title, lang=lang)))
        count = len(found.members)
        self.g.add((ref, DCT.description, Literal(
            f"Reihe „{found.title.get('de')}“: {count} Datensätze in ihrer Folge.", lang="de")))
        self.g.add((ref, DCT.description, Literal(
            f"Series “{found.title.get('en')}”: {count} datasets in order.", lang="en")))
        if publisher is not None:
            self.g.add((ref, DCT.publisher, publisher))
        self.g.add((ref, DCAT.first, URIRef(dataset_uri(found.members[0]))))
        self.g.add((ref, DCAT.last, URIRef(dataset_uri(found.members[-1]))))

    def _publisher(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> Node | None:
        """The dataset's publisher, or its organization where it names none
        (DCAT-AP.de and the dashboard want exactly one, with a foaf:name)."""
        publishers = list(self.g.objects(dataset_ref, DCT.publisher))
        for extra in publishers[1:]:
            self.g.remove((dataset_ref, DCT.publisher, extra))
        if publishers:
            return publishers[0]
        org = dataset_dict.get("organization") or {}
        if not org.get("title"):
            return None
        return self._add_agent_to_graph(dataset_ref, DCT.publisher, {
            "uri": str(_organization_ref(org)), "name": org["title"]})

    def _contact(self, dataset_ref: Node) -> None:
        """Every contact point reachable: one without e-mail or URL gets the
        portal's contact (its e-mail where set, else its about page)."""
        contacts = list(self.g.objects(dataset_ref, DCAT.contactPoint))
        if not contacts:
            contact = BNode()
            self.g.add((dataset_ref, DCAT.contactPoint, contact))
            self.g.add((contact, RDF.type, VCARD.Kind))
            self.g.add((contact, VCARD.fn, Literal(tk.config.get("ckan.site_title"))))
            contacts = [contact]
        for contact in contacts:
            if not any((contact, p, None) in self.g for p in (
                    VCARD.hasEmail, VCARD.hasURL, VCARD.hasTelephone)):
                self._portal_contact(contact)

    def _portal_contact(self, contact: Node) -> None:
        from .portal import texts

        email = (texts().get("contact") or {}).get("email")
        if email:
            self.g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))
        else:
            self.g.add((contact, VCARD.hasURL, URIRef(_site() + "/about")))

    def _roles(self, dataset_dict: dict[str, Any], dataset_ref: Node,
               publisher: Node | None) -> None:
        """Custodian: the organization that keeps the dataset; originator: the
        publisher (the body the data comes from). 2.0 consumers read them as
        dcatde:maintainer / dcatde:originator (deprecated in 3.0)."""
        org = dataset_dict.get("organization") or {}
        custodian = None
        if org.get("title"):
            custodian = _organization_ref(org)
            self.g.add((custodian, RDF.type, FOAF.Agent))
            self.g.add((custodian, RDF.type, FOAF.Organization))
            if not any(self.g.objects(custodian, FOAF.name)):
                self.g.add((custodian, FOAF.name, Literal(org["title"])))
            self.g.add((dataset_ref, GEODCATAP.custodian, custodian))
        if publisher is not None:
            self.g.add((dataset_ref, GEODCATAP.originator, publisher))
        if not tk.asbool(tk.config.get(V2_ROLES_OPTION)):
            return
        if custodian is not None:
            self.g.add((dataset_ref, DCATDE.maintainer, custodian))
        if publisher is not None:
            self.g.add((dataset_ref, DCATDE.originator, publisher))

    def _distribution(self, dataset_dict: dict[str, Any], resource: dict[str, Any],
                      distribution: Node) -> None:
        attribution = (resource.get("license_attribution")
                       or dataset_dict.get("license_attribution"))
        if attribution:
            self.g.add((distribution, DCATDE.licenseAttributionByText, Literal(attribution)))
        self._licence_types(distribution)
        label = resource.get("format")
        file_type, media_type = (vocabularies.file_type_uri(label),
                                 vocabularies.media_type_uri(label))
        if file_type:
            self.g.remove((distribution, DCT["format"], None))
            self.g.add((distribution, DCT["format"], URIRef(file_type)))
            self.g.add((URIRef(file_type), RDF.type, DCT.MediaTypeOrExtent))
            self._concept(file_type, vocabularies.FILE_TYPE.rstrip("/"),
                          file_type.rsplit("/", 1)[-1])
        if media_type:
            self.g.remove((distribution, DCAT.mediaType, None))
            self.g.add((distribution, DCAT.mediaType, URIRef(media_type)))
            self.g.add((URIRef(media_type), RDF.type, DCT.MediaType))

    def _licence_types(self, distribution: Node) -> None:
        """The licence's ADMS type where the licence is known (ckanext-dcat
        marks every licence "UnknownIPR"), as a labelled concept."""
        for licence in self.g.objects(distribution, DCT.license):
            known = vocabularies.licence_type_uri(str(licence))
            if known:
                self.g.remove((licence, DCT.type, None))
                self.g.add((licence, DCT.type, URIRef(known)))
            for kind in self.g.objects(licence, DCT.type):
                label = vocabularies.licence_type_label(str(kind))
                if label:
                    self._concept(str(kind), vocabularies.LICENCE_TYPE + "1.1", label)

    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: Node) -> None:
        """The catalog record: publisher, language, licence, theme taxonomy and
        spatial as DCAT-AP.de asks (title, description, homepage: ckanext-dcat)."""
        self.g.bind("dcatde", DCATDE)
        for language in list(self.g.objects(catalog_ref, DCT.language)):
            self.g.remove((catalog_ref, DCT.language, language))
        for code in tk.aslist(tk.config.get("ckan.locales_offered")) or [
                tk.config.get("ckan.locale_default")]:
            language = vocabularies.language_uri(code)
            if language:
                self.g.add((catalog_ref, DCT.language, URIRef(language)))
                self._concept(language, vocabularies.LANGUAGE.rstrip("/"), code)
        self.g.add((catalog_ref, DCAT.themeTaxonomy, THEMES))
        self.g.add((THEMES, RDF.type, SKOS.ConceptScheme))
        self.g.add((THEMES, DCT.title, Literal("Datenthemen", lang="de")))
        self.g.add((THEMES, DCT.title, Literal("Data theme", lang="en")))
        self._catalog_description(catalog_ref)
        publisher = self._catalog_publisher(catalog_ref)
        licence = tk.config.get("ckanext.vernetztestadt.dcat.catalog_license")
        if licence:
            self.g.add((catalog_ref, DCT.license, URIRef(licence)))
        for service in SERVICES:
            self._data_service(catalog_ref, publisher, licence, service)
        spatial = vocabularies.geocoding_uri(
            tk.config.get("ckanext.vernetztestadt.default_ags"), None)
        if spatial:
            self._location(catalog_ref, spatial)
        self._ranges({catalog_ref, publisher, *self.g.objects(catalog_ref, DCAT.service)})

    def _catalog_description(self, catalog_ref: Node) -> None:
        """DCAT-AP requires one: the site's, else the portal's tagline."""
        if (catalog_ref, DCT.description, None) in self.g:
            return
        from .portal import portal

        tagline = portal().get("tagline") or tk.config.get("ckan.site_title")
        self.g.add((catalog_ref, DCT.description, Literal(tagline, lang=self._default_lang)))

    def _catalog_publisher(self, catalog_ref: Node) -> Node:
        given = self.g.value(catalog_ref, DCT.publisher)
        if given is not None:
            return given
        from .portal import local, texts

        office = local((texts().get("contact") or {}).get("office")) or tk.config.get(
            "ckan.site_title")
        return self._add_agent_to_graph(catalog_ref, DCT.publisher, {
            "uri": _site() + "/about",
            "name": office})

    def _data_service(self, catalog_ref: Node, publisher: Node, licence: str | None,
                      service: dict[str, Any]) -> None:
        """One of the portal's APIs as a dcat:DataService of the catalog."""
        ref = URIRef(_site() + service["path"])
        self.g.add((catalog_ref, DCAT.service, ref))
        self.g.add((ref, RDF.type, DCAT.DataService))
        for lang, title in service["title"].items():
            self.g.add((ref, DCT.title, Literal(title, lang=lang)))
        for lang, text in service["description"].items():
            self.g.add((ref, DCT.description, Literal(text, lang=lang)))
        self.g.add((ref, DCAT.endpointURL, ref))
        self.g.add((ref, DCAT.endpointDescription, URIRef(service["documentation"])))
        self.g.add((URIRef(service["documentation"]), RDF.type, RDFS.Resource))
        self.g.add((ref, DCT.publisher, publisher))
        if licence:
            self.g.add((ref, DCT.license, URIRef(licence)))

    # -- import ----------------------------------------------------------------

    def parse_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> dict[str, Any]:
        contributors = [str(o) for o in self.g.objects(dataset_ref, DCATDE.contributorID)]
        own = [c for c in contributors if not vocabularies.is_official_contributor(c)]
        if own or contributors:
            dataset_dict["contributor_id"] = (own or contributors)[0]
        for uri in self.g.objects(dataset_ref, DCATDE.politicalGeocodingURI):
            found = vocabularies.ags_from_geocoding(str(uri))
            if found:
                dataset_dict["ags"], dataset_dict["political_geocoding_level"] = found
                break
        level = self.g.value(dataset_ref, DCATDE.politicalGeocodingLevelURI)
        if level is not None:
            dataset_dict["political_geocoding_level"] = str(level)
        for distribution in self._distributions(dataset_ref):
            attribution = self.g.value(distribution, DCATDE.licenseAttributionByText)
            if attribution is not None:
                dataset_dict.setdefault("license_attribution", str(attribution))
        model = next((str(o) for o in self.g.objects(dataset_ref, DCT.references)
                      if str(o).startswith(MUSTERDATENKATALOG)), None)
        if model:
            dataset_dict["musterdatensatz"] = model
        themes = [str(o) for o in self.g.objects(dataset_ref, DCAT.theme)]
        if themes:  # the multiple choice as a list (ckanext-dcat gives a JSON text)
            dataset_dict["theme"] = themes
        self._formats_from_uris(dataset_dict)
        return dataset_dict

    @staticmethod
    def _formats_from_uris(dataset_dict: dict[str, Any]) -> None:
        """ckanext-dcat keeps a format URI it cannot name as the format: the
        EU and IANA URIs become CKAN's labels (``CSV``)."""
        for resource in dataset_dict.get("resources", []):
            given = resource.get("format") or ""
            label = (vocabularies.format_label(given)
                     or vocabularies.format_label(resource.get("mimetype") or ""))
            if label and (not given or given.startswith(("http://", "https://"))):
                resource["format"] = label
