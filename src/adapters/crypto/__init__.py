"""Sealing secrets for storage: taxpayer ids (the core's TaxIdCipher port)."""

from adapters.crypto.tax_ids import FernetTaxIds

__all__ = ["FernetTaxIds"]
