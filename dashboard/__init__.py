"""genlab dashboard: the Streamlit teaching app (``streamlit run dashboard/app.py``)."""
