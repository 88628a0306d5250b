"""Login form."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email address."),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
